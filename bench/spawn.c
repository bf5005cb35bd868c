/* The reference for "start of one app": a native program that starts the child directly.
 *   spawn PROGRAM [ARG...]
 * posix_spawn(3)s PROGRAM with this environment (so the child stamps $BENCH_MARK as it does under
 * a manager) and exits at once, without waiting: the bench times from launching spawn to the
 * child's stamp, which is what `tend start` is timed on, minus everything a manager adds. The
 * bench kills the child by the pid it stamped. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: spawn PROGRAM [ARG...]\n");
        return 2;
    }
    pid_t pid;
    int err = posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, environ);
    if (err != 0) {
        fprintf(stderr, "spawn: %s: %s\n", argv[1], strerror(err));
        return 1;
    }
    return 0;
}

// A Node HTTP server that takes its listening socket from Tend (socket activation: fd 3).
// Run by hand, without LISTEN_FDS, it listens on 127.0.0.1:$PORT (default 8081).
'use strict';
const http = require('http');

const instance = process.env.TEND_INSTANCE ?? '?';
// LISTEN_PID guards against taking fds meant for another process (our parent, say).
const activated = Number(process.env.LISTEN_FDS) >= 1 && process.env.LISTEN_PID === String(process.pid);
for (const name of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete process.env[name];

const server = http.createServer((req, res) => {
  res.end(`pid=${process.pid} instance=${instance}\n`);
});

if (activated) {
  server.listen({ fd: 3 }, () => console.log(`instance ${instance} serving on fd 3`));
} else {
  const port = Number(process.env.PORT ?? 8081);
  server.listen(port, '127.0.0.1', () => console.log(`instance ${instance} serving on 127.0.0.1:${port}`));
}

// On SIGTERM: stop accepting (the other instances, or the daemon's backlog, take the new
// connections), let requests in flight finish, close idle keep-alive connections, then exit.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

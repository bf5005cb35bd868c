using System.Text;

namespace Tend.Tests.Config;

/// <summary>
/// A few hundred malformed configs, generated (seeded, so a failure can be reproduced): wrong
/// types for every key, NULs, huge numbers, deep nesting, aliases (a billion laughs among them),
/// BOMs, invalid UTF-8, tabs, duplicate keys, truncated documents. Each is bytes to write to a file.
/// </summary>
internal static class MalformedConfigCorpus
{
    private static readonly string[] s_keys =
    [
        "run", "cmd", "args", "shell", "cwd", "env", "env_file", "instances", "restart", "max_restarts", "min_uptime",
        "restart_delay", "backoff", "stop_signal", "reload_signal", "kill_timeout", "stop_exit_codes", "max_memory",
        "increment_var", "logs", "depends_on", "ready", "live", "watchdog", "critical", "listen", "listen_mode",
        "reload_parallelism",
    ];

    private static readonly string[] s_badValues =
    [
        "[1, 2, [3]]", "{ a: { b: c } }", "~", "''", "\"\\0\"", "-1", "99999999999999999999999", "1e308", "-0",
        "0x7fffffff", "true", "\"ten seconds\"", "10parsecs", "[]", "{}", "\"a\\0b\"", "!!binary aGVsbG8=", "*undefined",
        "&x [*x]", "9999999999T", "\"\\u0001\\u001b[2J\"", ".nan", "-.inf", "\"" + new string('x', 5000) + "\"",
    ];

    public static IEnumerable<(string Name, byte[] Bytes)> Generate(int seed = 20261205)
    {
        var random = new Random(seed);
        int n = 0;
        string Next() => $"case{n++:000}";

        // Every key with every kind of wrong value.
        foreach (string key in s_keys)
        {
            foreach (string value in s_badValues.OrderBy(_ => random.Next()).Take(8))
                yield return (Next(), Utf8($"apps:\n  web:\n    run: sleep 1\n    {key}: {value}\n"));
        }

        // The top level and the supervisors section, wrong.
        foreach (string text in new[]
        {
            "", "---", "apps:", "apps: []", "apps: 7", "apps: { web: 7 }", "apps: { web: [] }", "apps: { \"\": { run: x } }",
            "apps: { all: { run: sleep 1 } }", "supervisors: 5", "apps: { a: { run: sleep 1 } }\nsupervisors: { s: { children: [a, a] } }",
            "apps: { a: { run: sleep 1 } }\nsupervisors: { s: { strategy: nope, children: [a] } }",
            "apps: { a: { run: sleep 1 } }\nsupervisors: { s: { children: [s] } }", "apps: { a: { run: sleep 1, depends_on: { a: ready } } }",
            "apps: { a: { run: sleep 1, depends_on: { b: ready } }, b: { run: sleep 1, depends_on: { a: ready } } }",
            "{ \"apps\": { \"web\": { \"run\": \"sleep 1\" ", "apps:\n\tweb:\n\t\trun: sleep 1\n", "apps:\n  web:\n    run: sleep 1\n    run: sleep 2\n",
            "apps:\n  web:\n    run: sleep 1\n  web:\n    run: sleep 2\n", "apps:\n  web: &w\n    run: sleep 1\n  copy: *w\n  bad: *nope\n",
            "apps: !!map { web: { run: sleep 1 } }\n--- \napps: {}\n", "%YAML 9.9\n---\napps: {}\n", "apps: {web: {run: 'unterminated}}",
            "apps:\n  web:\n    run: \"sleep 1\n", "apps: { web: { run: sleep 1 } } extra",
        })
            yield return (Next(), Utf8(text));

        // Deep nesting.
        foreach (int depth in new[] { 50, 200, 2000 })
            yield return (Next(), Utf8("apps:\n  web:\n    run: sleep 1\n    env: " + new string('[', depth) + new string(']', depth) + "\n"));
        foreach (int depth in new[] { 100, 1000 })
            yield return (Next(), Utf8("apps:\n  web:\n    run: sleep 1\n    env: " + string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth) + "\n"));

        // A billion laughs: aliases that expand exponentially.
        var laughs = new StringBuilder("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int i = 1; i < 10; i++) laughs.Append($"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]\n");
        laughs.Append("apps:\n  web:\n    run: sleep 1\n    args: *l9\n");
        yield return (Next(), Utf8(laughs.ToString()));

        // Encodings: BOMs, invalid UTF-8, NULs in the file, UTF-16.
        byte[] plain = Utf8("apps:\n  web:\n    run: sleep 1\n    env: { A: x }\n");
        yield return (Next(), [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, .. plain]);
        yield return (Next(), [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("apps:\n  web:\n    run: [sleep\n")]);
        yield return (Next(), [.. plain[..20], 0xC3, 0x28, 0xA0, 0xA1, 0xFF, .. plain[20..]]);
        yield return (Next(), [.. plain[..25], 0x00, .. plain[25..]]);
        yield return (Next(), [0xC0, 0x80, 0xED, 0xA0, 0x80]);

        // Random mutations of a valid config: bytes flipped, cut short, lines swapped.
        byte[] valid = Utf8("""
            apps:
              web:
                run: sleep 1
                instances: 2
                env: { PORT: "8080", DB_PASSWORD: x }
                ready: { http: "http://127.0.0.1:8080/ready", interval: 1s }
                backoff: { initial: 100ms, max: 1s }
              worker:
                cmd: sleep
                args: ["1"]
                depends_on: { web: ready }
            supervisors:
              backend: { strategy: rest_for_one, children: [web, worker] }
            """);
        for (int i = 0; i < 120; i++)
        {
            byte[] copy = (byte[])valid.Clone();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                int at = random.Next(copy.Length);
                const string Specials = "{}[]:,&*!|>'\"#%@`\t\0-?\n ";
                copy[at] = (byte)Specials[random.Next(Specials.Length)];
            }
            if (random.Next(4) == 0) copy = copy[..random.Next(1, copy.Length)];
            yield return (Next(), copy);
        }
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}

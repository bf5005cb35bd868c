using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>listen:, listen_mode: and reload_parallelism: the specs they produce, and mistakes rejected with exact messages.</summary>
public sealed class ConfigListenTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private AppSpec LoadApp(string appYaml) => _dir.Load("apps:\n  web:\n    run: node web.js\n" + appYaml).Apps.Single();

    [Fact]
    public void Load_Listen_OneOrManyAddresses()
    {
        AppSpec plain = LoadApp("");
        Assert.Empty(plain.Listen);
        Assert.Equal(ListenMode.Socket, plain.ListenMode);
        Assert.Equal(1, plain.ReloadParallelism);

        Assert.Equal(new[] { "8080" }, LoadApp("    listen: 8080\n").Listen);
        AppSpec many = LoadApp("    listen: [8080, '127.0.0.1:9090', '[::1]:9091', /tmp/web.sock]\n    reload_parallelism: 2\n");
        Assert.Equal(new[] { "8080", "127.0.0.1:9090", "[::1]:9091", "/tmp/web.sock" }, many.Listen);
        Assert.Equal(2, many.ReloadParallelism);
        Assert.Equal(ListenMode.Proxy, LoadApp("    listen: 8080\n    listen_mode: proxy\n").ListenMode);
    }

    [Fact]
    public void Load_BadListen_ExactErrors()
    {
        Assert.Equal(
            ["ROOT/tend.yaml:4:20: apps.web.listen[1]: '99999' is not a port, host:port or /path (port '99999' is not a number from 0 to 65535)",
             "ROOT/tend.yaml:4:27: apps.web.listen[2]: \"8080\" is listed twice (first at line 4)"],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    listen: [8080, 99999, 8080]\n"));
        Assert.Equal(
            ["ROOT/tend.yaml:4:13: apps.web.listen: 'web.example.com' in 'web.example.com:80' is not an IP address (use an address such as 127.0.0.1 or [::1], localhost, or * for all)",
             ],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    listen: web.example.com:80\n"));
        Assert.Equal(
            ["ROOT/tend.yaml:4:13: apps.web.listen: '0': port 0 would be a different free port on every daemon start; give a fixed port"],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    listen: 0\n"));
        Assert.Equal(
            ["ROOT/tend.yaml:4:18: apps.web.listen_mode: proxy forwards connections from listen: addresses; set listen: (a port)"],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    listen_mode: proxy\n"));
        Assert.Equal(
            ["ROOT/tend.yaml:5:18: apps.web.listen_mode: proxy forwards TCP only; \"/tmp/a.sock\" is a unix socket (use listen_mode: socket)"],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    listen: /tmp/a.sock\n    listen_mode: proxy\n"));
        Assert.Equal(
            ["ROOT/tend.yaml:4:18: apps.web.listen_mode: expected socket or proxy, got \"cluster\""],
            _dir.Errors("apps:\n  web:\n    run: node web.js\n    listen_mode: cluster\n"));
    }
}

using Tend;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Tend.Api;
using Tend.Daemon;
using Tend.Daemon.Otlp;
using Tend.Diagnostics;
using Tend.Processes;
using Tend.Supervision;

// tend-daemon: one per TEND_HOME. Started by the CLI on first use (detached, in its own session,
// stdio on /dev/null), or by hand / by systemd in the foreground. Serves the control API on
// $TEND_HOME/tend.sock and logs events as JSON lines to $TEND_HOME/daemon.log.

// `tend run`, `import`, `export` and `startup` come here from the CLI (Commands/EngineCommandHost.cs):
// the engine without the daemon around it.
if (args is [EngineCommands.Flag, string engineCommand, string invocation])
    return await Tend.Daemon.Commands.EngineCommandHost.RunAsync(engineCommand, invocation);

// What the previous daemon handed over, first: an upgrade's image kept its pipes, sockets and lock
// open for us (TEND_FDS), or systemd kept them in its store across a crash (LISTEN_FDS).
using var inherited = Tend.Io.InheritedDescriptors.FromEnvironment(Environment.GetEnvironmentVariable, Environment.ProcessId);
string[] startArgs = args;
string home = ApiRoutes.ResolveHome();
bool detached = false;
string? tokenFile = null;
string? socketGroupName = Environment.GetEnvironmentVariable("TEND_SOCKET_GROUP") is { Length: > 0 } groupFromEnv ? groupFromEnv : null;
string healthSetting = Environment.GetEnvironmentVariable("TEND_HEALTH") is { Length: > 0 } fromEnv ? fromEnv : ApiRoutes.DefaultHealthAddress;
string healthSource = healthSetting == ApiRoutes.DefaultHealthAddress ? "default" : "TEND_HEALTH";
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--home" && i + 1 < args.Length) home = Path.GetFullPath(args[++i]);
    else if (args[i] == "--detached") detached = true;
    else if (args[i] == "--check")
    {
        // `tend daemon upgrade` runs the new binary this way before it hands anything over: a daemon
        // that cannot even start here (a missing runtime, a broken install) is refused while the old
        // one still holds everything.
        Console.WriteLine("tend-daemon " + ThisAssembly.Version);
        return 0;
    }
    else if (args[i] == "--health" && i + 1 < args.Length) { healthSetting = args[++i]; healthSource = "--health"; }
    else if (args[i] == "--token-file" && i + 1 < args.Length) tokenFile = Path.GetFullPath(args[++i]);
    else if (args[i] == "--socket-group" && i + 1 < args.Length) socketGroupName = args[++i];
    else
    {
        Console.Error.WriteLine($"tend-daemon: unknown argument \"{args[i]}\" (usage: tend-daemon [--home DIR] [--detached] [--health HOST:PORT|off] [--token-file PATH] [--socket-group GROUP] [--check])");
        return 2;
    }
}
if (HealthAddress.TryParse(healthSetting, out HealthAddress health) is string healthError)
{
    Console.Error.WriteLine($"tend-daemon: {healthSource}: {healthError}");
    return 2;
}

Tend.Isolation.GroupAccount? socketGroup = null;
if (socketGroupName is not null && (socketGroup = Tend.Isolation.UserAccounts.FindGroup(socketGroupName)) is null)
{
    Console.Error.WriteLine($"tend-daemon: --socket-group: no group \"{socketGroupName}\" on this machine");
    return 2;
}

// Everything the daemon creates (socket, state, logs) is for this user only.
Tend.Identity.ProcessIdentity.CreateFilesPrivate();
try { Tend.Security.HomeTrust.Ensure(home); }
catch (Tend.Security.UntrustedHomeException ex)
{
    // Nothing is written into a home another user controls, daemon.log included.
    Console.Error.WriteLine($"tend-daemon: {ex.Message}");
    return 2;
}
// daemon.log: O_APPEND (stdout and stderr of a detached daemon write to it too), rotated at 10 MiB
// (three kept), and a full disk drops lines instead of failing the daemon (DaemonLogFile).
DaemonLogFile daemonLog;
try
{
    // Detached, the CLI started us with stdio on /dev/null: send anything written to stdout/stderr
    // (a runtime crash report, say) to daemon.log, where `tend` looks when the daemon won't answer.
    daemonLog = DaemonLogFile.Open(Path.Combine(home, "daemon.log"), redirectStdio: detached);
}
catch (IOException ex)
{
    Console.Error.WriteLine($"tend-daemon: cannot open {Path.Combine(home, "daemon.log")}: {ex.Message}");
    return 1;
}

// The bearer token for the dashboard and API over TCP (docs/dashboard.md): read before anything
// is started, so no child inherits TEND_TOKEN, and after stderr points at daemon.log, so a bad
// token file is reported where `tend` looks.
if (TcpAccess.ReadToken(tokenFile, out string? token) is string tokenError)
{
    Console.Error.WriteLine($"tend-daemon: {tokenError}");
    return 2;
}

using DaemonLock? daemonLock = DaemonLock.Acquire(home, out int? holder, inherited.Take("lock"), exitingGrace: TimeSpan.FromSeconds(3));
if (daemonLock is null)
{
    Console.Error.WriteLine($"tend-daemon: a daemon is already running for {home} (pid {holder?.ToString() ?? "unknown"})");
    return 1;
}

string socketPath = Path.Combine(home, ApiRoutes.SocketFileName);
// We hold the lock, so any socket file left here belongs to a dead daemon.
File.Delete(socketPath);

await using DaemonLogFile ownedDaemonLog = daemonLog;
using var loggers = new JsonLinesLoggerFactory(daemonLog);
var logger = loggers.CreateLogger("tend.daemon");
DaemonLog.Starting(logger, Environment.ProcessId, home, ThisAssembly.Version);
if (inherited.Count > 0) UpgradeLog.Inherited(logger, inherited.Source, inherited.Count);
foreach (string problem in inherited.Problems) UpgradeLog.InheritedProblem(logger, problem);

// Under systemd (Type=notify) or anything else that set NOTIFY_SOCKET: READY=1, STOPPING=1, WATCHDOG=1.
using var serviceManager = new ServiceManagerLink(Environment.GetEnvironmentVariable, logger);

if (health.CheckBindable() is string bindError) DaemonLog.HealthUnavailable(logger, healthSetting, bindError);

// A child subreaper, as systemd is for its units: a process an app leaves behind (a daemonizing
// grandchild, a worker whose parent crashed) is re-parented to us rather than to the machine's
// init, and reaped here. Without it such orphans stay zombies wherever init does not reap (many
// containers), and a zombie still "exists" for kill(pid, 0): a restarted PostgreSQL then believes
// its old postmaster still holds the lock. The reaper never touches the children we hold by pidfd.
bool subreaper = ZombieReaper.SetChildSubreaper();
using IDisposable? orphanReaper = subreaper ? ZombieReaper.Start(_ => false) : null;

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.Logging.AddProvider(loggers);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// Each listener has its own connection budget (ConnectionLimit): anyone on the machine may connect
// to the TCP port, and must not be able to take the control socket or the daemon's fds with it.
var controlLimit = new ConnectionLimit("control socket", total: 512, perAddress: 512);
var tcpLimit = new ConnectionLimit("tcp listener", total: 128, perAddress: 64);
builder.WebHost.ConfigureKestrel(k =>
{
    k.ListenUnixSocket(socketPath, l => { l.Protocols = HttpProtocols.Http1; l.Use(controlLimit.Wrap); });
    if (health.EndPoint is { } endPoint) k.Listen(endPoint, l => { l.Protocols = HttpProtocols.Http1; l.Use(tcpLimit.Wrap); });
    // A client that connects and sends nothing, or dribbles its headers, is dropped (Kestrel's
    // defaults are 130 s idle and 30 s for headers).
    k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(15);
    k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
    k.AddServerHeader = false;
    // A request is a command, a config path or an environment: 4 MiB is plenty (an app's
    // environment and arguments are bounded at 1 MiB, Config.Limits), and keeps one request from
    // holding tens of megabytes (Kestrel's default is 30 MB).
    k.Limits.MaxRequestBodySize = 4 * 1024 * 1024;
});
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(10));
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, TendJsonContext.Default));

// A cgroup per instance (docs/isolation.md): what an app starts cannot outlive it.
var cgroups = Tend.Isolation.CgroupTree.FromEnvironment(home, Environment.GetEnvironmentVariable);
foreach (string note in cgroups.Notes) DaemonLog.CgroupNote(logger, cgroups.Mode.ToString(), note);

await using var supervisor = new Supervisor(home, TimeProvider.System, loggers)
{
    Cgroups = cgroups,
    Inherited = inherited,
    DescriptorStore = ServiceManagerStore.For(serviceManager, Environment.GetEnvironmentVariable, logger),
    DotnetCounters = Tend.Runtime.DotnetCounterOptions.FromEnvironment(Environment.GetEnvironmentVariable),
};
builder.Services.AddSingleton(supervisor);
// audit.log: who changed what (docs/audit.md). Disposed before the supervisor, whose events it follows.
await using var audit = new AuditRecorder(Tend.Audit.AuditTrail.Open(home, TimeProvider.System, loggers.CreateLogger("tend.audit")), supervisor.Events);
builder.Services.AddSingleton(audit);
// Alerts (docs/alerts.md): rules from started configs, on the engine's events and samples.
using var alertHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), UseProxy = false });
await using var alerts = new Tend.Alerts.AlertEngine(supervisor, home, TimeProvider.System, loggers, alertHttp, DaemonEnvironment());
builder.Services.AddSingleton(alerts);
// Diagnostics (tend diag, collection rules): artifacts under $TEND_HOME/diag within a quota.
await using var diag = new Tend.Diag.DiagCollector(supervisor, alerts, home, TimeProvider.System, loggers,
    long.TryParse(Environment.GetEnvironmentVariable("TEND_DIAG_QUOTA_MB"), out long quotaMb) && quotaMb > 0 ? quotaMb * 1024 * 1024 : Tend.Diag.DiagCollector.DefaultQuotaBytes);
builder.Services.AddSingleton(diag);
var metrics = new DaemonMetrics(supervisor, alerts);
builder.Services.AddSingleton(metrics);
builder.Services.AddSingleton(health);
var tcpAccess = new TcpAccess(token);
builder.Services.AddSingleton(tcpAccess);
builder.Services.AddSingleton(new DaemonHost(cgroups, subreaper));
builder.Services.AddSingleton(serviceManager);
builder.Services.AddSingleton(new DaemonUpgrade(supervisor, daemonLock, new DaemonStart(startArgs), loggers.CreateLogger("tend.upgrade")));
builder.Services.AddHostedService<ShutdownService>();

// Memory touched by the start-up or a burst of requests is given back once the daemon is quiet.
TimeSpan? trimQuiet = QuietTrim.QuietFromEnvironment(Environment.GetEnvironmentVariable, out string? trimProblem);
if (trimProblem is not null) DaemonLog.SettingProblem(logger, trimProblem);
using QuietTrim? quietTrim = trimQuiet is TimeSpan quiet ? new QuietTrim(quiet, TimeProvider.System, loggers.CreateLogger("tend.memory")) : null;

var app = builder.Build();
// Outermost: the record sees the answer's final status, refusals and errors included.
app.Use((context, next) => audit.InvokeAsync(context, () => next(context), tcpAccess));
if (quietTrim is not null)
{
    app.Use((context, next) =>
    {
        quietTrim.Activity();
        return next(context);
    });
}
app.MapTendApi(home);
app.MapAudit();
app.MapAlerts();
app.MapDiag();
app.MapJobs();
app.MapDoctor();

alerts.Start();
diag.Start();
await supervisor.RestoreAsync();
await app.StartAsync();
DaemonLog.Listening(logger, socketPath);
if (socketGroup is not null && SocketAccess.OpenToGroup(home, socketPath, socketGroup) is string accessProblem)
    DaemonLog.SocketGroupProblem(logger, socketGroup.Name, accessProblem);
if (health.EndPoint is not null)
{
    // With port 0 the kernel chose; read back what Kestrel bound.
    var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
        .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
    health.Url = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal) && !a.StartsWith("http://unix:", StringComparison.Ordinal));
    if (health.Url is not null) DaemonLog.HealthListening(logger, health.Url, token is null ? "loopback only, no token" : "bearer token required");
}
// After the listeners, so a slow SDK start never delays the socket `tend` is waiting for.
IDisposable? otlp = OtlpStartup.TryStart(metrics.Collect, ThisAssembly.Version, home, logger);
// The declared apps are restored and the socket answers: what `systemctl start` waits for.
serviceManager.Ready(supervisor);
// The start-up counts as activity: a daemon nobody asks anything still trims once it is up.
quietTrim?.Activity();
await app.WaitForShutdownAsync();
// Apps are stopped by now: the last export says so.
otlp?.Dispose();
DaemonLog.Exiting(logger, Environment.ProcessId);
File.Delete(socketPath);
return 0;

static Dictionary<string, string> DaemonEnvironment()
{
    var env = new Dictionary<string, string>(StringComparer.Ordinal);
    foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        if (e.Key is string k && e.Value is string v) env[k] = v;
    return env;
}

internal static class ThisAssembly
{
    public static string Version { get; } =
        typeof(ThisAssembly).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}

/// <summary>On SIGTERM/SIGINT (or `tend kill`), stop every app gracefully, in reverse start order, before the host exits.</summary>
internal sealed class ShutdownService(Supervisor supervisor, ServiceManagerLink serviceManager) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken)
    {
        serviceManager.Stopping();
        return supervisor.ShutdownAsync();
    }
}

internal static partial class DaemonLog
{
    [LoggerMessage(2101, LogLevel.Information, "daemon pid {Pid} starting for {Home} (version {Version})")]
    public static partial void Starting(ILogger logger, int pid, string home, string version);

    [LoggerMessage(2102, LogLevel.Information, "listening on {Socket}")]
    public static partial void Listening(ILogger logger, string socket);

    [LoggerMessage(2104, LogLevel.Information, "health endpoints and dashboard on {Url} (dashboard: {Access})")]
    public static partial void HealthListening(ILogger logger, string url, string access);

    [LoggerMessage(2105, LogLevel.Error, "health endpoints off: cannot listen on {Address}: {Error}")]
    public static partial void HealthUnavailable(ILogger logger, string address, string error);

    [LoggerMessage(2106, LogLevel.Information, "cgroups ({Mode}): {Note}")]
    public static partial void CgroupNote(ILogger logger, string mode, string note);

    [LoggerMessage(2126, LogLevel.Warning, "{Problem}")]
    public static partial void SettingProblem(ILogger logger, string problem);

    [LoggerMessage(2107, LogLevel.Warning, "socket_group {Group}: {Problem}")]
    public static partial void SocketGroupProblem(ILogger logger, string group, string problem);

    [LoggerMessage(2103, LogLevel.Information, "daemon pid {Pid} exiting")]
    public static partial void Exiting(ILogger logger, int pid);
}

using System.Globalization;
using System.Net;
using Tend.Hosting;

var builder = WebApplication.CreateBuilder(args);

// Under Tend with `listen:`, the port is already open: it is fd 3, shared by every instance, and the
// kernel spreads connections over them. LISTEN_PID guards against a child process of ours taking fds
// that were meant for us. (Microsoft.Extensions.Hosting.Systemd's UseSystemd() does the same check; this
// is it in four lines, without the package.) Run on its own, the app listens on PORT (default 8080).
int? fds = int.TryParse(Environment.GetEnvironmentVariable("LISTEN_FDS"), CultureInfo.InvariantCulture, out int n)
    && Environment.GetEnvironmentVariable("LISTEN_PID") == Environment.ProcessId.ToString(CultureInfo.InvariantCulture) ? n : null;
// As sd_listen_fds(1) does: whatever this app starts must not think the sockets are its own.
foreach (string name in new[] { "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES" }) Environment.SetEnvironmentVariable(name, null);

builder.WebHost.ConfigureKestrel(kestrel =>
{
    if (fds >= 1) kestrel.ListenHandle(3);
    else kestrel.Listen(IPAddress.Loopback, builder.Configuration.GetValue("PORT", 8080));
});
builder.Services.AddTend(); // READY=1 once Kestrel accepts, STOPPING=1 on the way down

var app = builder.Build();
string instance = app.Configuration["TEND_INSTANCE"] ?? "?";
app.MapGet("/", () => $"pid={Environment.ProcessId} instance={instance}\n");
app.Run();

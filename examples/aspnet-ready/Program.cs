using System.Net;
using ReadyDemo;
using Tend.Hosting;

var builder = WebApplication.CreateBuilder(args);
// PORT, WARMUP_MS and TEND_INSTANCE come from the environment (Tend sets the last one).
var port = builder.Configuration.GetValue("PORT", 5080);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));

builder.Services.AddTend();                      // READY=1 once started, STOPPING=1, WATCHDOG=1
builder.Services.AddSingleton<Health>();
builder.Services.AddHostedService<WarmUp>();     // READY waits for it: every StartAsync must finish first

var app = builder.Build();
var instance = app.Configuration["TEND_INSTANCE"] ?? "?";

app.MapGet("/", () => $"hello from instance {instance}\n");
app.MapGet("/healthz", (Health health) => health.IsSick
    ? Results.Text("sick\n", statusCode: StatusCodes.Status503ServiceUnavailable)
    : Results.Text("ok\n"));
app.MapPost("/sick", (Health health, ITendNotifier tend) =>
{
    health.IsSick = true;
    tend.SetStatus("sick: /healthz answers 503");
    return Results.Text("/healthz now answers 503\n");
});

app.Run();

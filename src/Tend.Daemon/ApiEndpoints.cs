using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Tend.Api;
using Tend.Config;
using Tend.Daemon.Wire;
using Tend.Processes;
using Tend.Supervision;

namespace Tend.Daemon;

/// <summary>
/// The control API: thin HTTP over <see cref="Supervisor"/>. Errors always come back as an
/// <see cref="ErrorResponse"/> whose exit_code the CLI exits with: 1 for a target that names
/// nothing, 2 for bad input (config, arguments, request body).
/// </summary>
internal static class ApiEndpoints
{
    public static void MapTendApi(this WebApplication app, string home)
    {
        var started = TimeProvider.System.GetTimestamp();
        var json = TendJsonContext.Default;

        app.MapMetrics();

        app.Use(async (context, next) =>
        {
            try { await next(context); }
            catch (TargetNotFoundException ex) { await WriteError(context, 404, ex.Message, ex.Details, 1); }
            catch (ConfigException ex) { await WriteError(context, 422, "invalid config", [.. ex.Errors.Select(e => e.ToString())], 2); }
            catch (BadRequestException ex) { await WriteError(context, 400, ex.Message, [], 2); }
            catch (RolloutRefusedException ex) { await WriteError(context, 409, ex.Message, [], 1); }
            catch (SaveRefusedException ex) { await WriteError(context, 409, ex.Message, [], 1); }
            catch (Tend.Diag.DiagException ex) { await WriteError(context, 409, ex.Message, [], 1); }
            catch (RolloutFailedException ex) { await WriteError(context, 409, ex.Message, [], 1); }
            catch (Tend.Cluster.ListenFailedException ex) { await WriteError(context, 409, ex.Message, [], 1); }
            catch (BadHttpRequestException ex) { await WriteError(context, 400, "bad request: " + ex.Message, [], 2); }
            catch (JsonException ex) { await WriteError(context, 400, "bad request body: " + ex.Message, [], 2); }
        });

        app.MapHealthEndpoints(started);
        app.MapDashboard();

        app.MapGet(ApiRoutes.Ping, (HealthAddress health) => Results.Json(
            new PingInfo(Environment.ProcessId, ThisAssembly.Version, home, (long)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds, health.Url, health.Problem,
                Tend.Processes.FdBudget.InUse(), Tend.Processes.FdBudget.Limit()),
            json.PingInfo));

        app.MapGet(ApiRoutes.List, (Supervisor s) => Results.Json(WireMapper.ToInfo(s.List()), json.InstanceInfoArray));

        app.MapGet(ApiRoutes.Tree, (Supervisor s) => Results.Json(WireMapper.ToInfo(s.Tree()), json.TreeNodeInfo));

        app.MapGet(ApiRoutes.History, (string? app, Supervisor s) => Results.Json(WireMapper.ToWire(s.History(app)), json.AppHistoryArray));

        app.MapGet(ApiRoutes.Env, (string? target, Supervisor s) => Results.Json(WireMapper.ToWire(s.Environments(target ?? "all")), json.InstanceEnvironmentInfoArray));

        app.MapGet(ApiRoutes.App + "{target}", (string target, Supervisor s) => Results.Json(WireMapper.ToInfo(s.Describe(target)), json.AppInfo));

        app.MapPost(ApiRoutes.Start, async (HttpRequest request, Supervisor s, Tend.Alerts.AlertEngine alerts, CancellationToken ct) =>
        {
            StartRequest body = await ReadBody(request, json.StartRequest, ct);
            var env = body.Env ?? new Dictionary<string, string>();
            if (body.ConfigPath is not null && body.Settings is { Count: > 0 })
                throw new BadRequestException("settings go with a command; a config file sets them per app");
            bool interpreted = body.Interpreter is not null || body.InterpreterArgs is { Count: > 0 };
            if (body.ConfigPath is not null && interpreted)
                throw new BadRequestException("an interpreter goes with a command; a config file puts it in run:");
            RunningAppAction? ifRunning = body.IfRunning switch
            {
                null => null,
                "reload" => RunningAppAction.Reload,
                "restart" => RunningAppAction.Restart,
                _ => throw new BadRequestException($"unknown if_running \"{body.IfRunning}\" (reload or restart)"),
            };
            if (ifRunning is not null && body.ConfigPath is null)
                throw new BadRequestException("startOrReload and startOrRestart take a config file: what runs from it is reloaded or restarted, the rest started");
            if (body.ConfigPath is string path)
            {
                TendConfig config = ConfigLoader.Load(path, env, s.Cgroups);
                // Before the apps start, so what goes wrong while they do is already watched.
                alerts.Apply(config.SourcePath!, config.Alerts);
                if (config.Tree.Supervisors.Count > 0)
                {
                    if (body.Only is { Count: > 0 }) throw new BadRequestException("--only cannot pick apps out of a supervision tree; start the whole config");
                    if (ifRunning is not null)
                        throw new BadRequestException($"{config.SourcePath} declares a supervision tree, which starts as a whole: use tend start, then tend reload or tend restart per app");
                    return Answer(await s.StartTreeAsync(config, ct));
                }
                IReadOnlyList<AppSpec> specs = body.Only is { Count: > 0 } only ? [.. config.Only(only).Apps] : [.. config.Apps];
                return Answer(ifRunning is { } action
                    ? await s.StartOrRollAsync(specs, config.SourcePath, env, action, ct)
                    : await s.StartAsync(specs, config.SourcePath, ct));
            }
            // `tend start backend`: a supervisor of the running tree, when the word is nothing more.
            if (body.Command is [var word] && body.Instances is null && body.Settings is not { Count: > 0 } && !interpreted && (body.Name is null || body.Name == word) && s.IsSupervisor(word))
                return Answer(await s.StartSupervisorAsync(word));
            // `tend start web` / `web#1` / `all`: PM2's start of an app it already knows (stopped ones start, running ones stay).
            if (body.Command is [var target] && body.Instances is null && body.Settings is not { Count: > 0 } && !interpreted && (body.Name is null || body.Name == target) && s.IsTarget(target))
                return Answer(await s.StartTargetAsync(target, ct));
            // `tend start api worker 3` (PM2 takes several): when every word names managed instances, each is started in turn.
            if (body.Command is { Count: > 1 } targets && body.Instances is null && body.Settings is not { Count: > 0 } && !interpreted && body.Name is null
                && targets.All(s.IsTarget))
            {
                var steps = new List<CommandOutcome>();
                foreach (string each in targets.Distinct(StringComparer.Ordinal)) steps.Add(await s.StartTargetAsync(each, ct));
                return Answer(new StepsTaken(steps));
            }
            // `tend start api wokrer`: an app and a typo, not a program called api.
            if (body.Command is { Count: > 1 } words && body.Name is null && !interpreted && s.IsTarget(words[0])
                && ExecutableLookup.Find(words[0], body.Cwd ?? home, env.GetValueOrDefault("PATH"), out _) != ExecutableLookup.Outcome.Found)
            {
                string[] unknown = [.. words.Where(w => !s.IsTarget(w))];
                throw new TargetNotFoundException(
                    $"no app or instance \"{string.Join("\", \"", unknown)}\" (tend start takes apps, app#i and ids, or one command); nothing was started",
                    ["apps: " + string.Join(", ", s.Apps.Select(a => a.Name))]);
            }
            if (body.Command is { Count: > 0 } command)
            {
                AppSpec spec = ConfigLoader.FromCommand(body.Name, command[0], [.. command.Skip(1)], body.Instances ?? 1, body.Cwd ?? home, env, body.Settings, s.Cgroups,
                    body.Interpreter, body.InterpreterArgs);
                return Answer(await s.StartAsync([spec], null, ct));
            }
            throw new BadRequestException("start needs config_path or command");
        });

        MapTargetAction(app, ApiRoutes.Stop, (s, t, ct) => s.StopAsync(t, ct));
        app.MapPost(ApiRoutes.Restart, async (HttpRequest request, Supervisor s, CancellationToken ct) =>
        {
            RestartRequest body = await ReadBody(request, json.RestartRequest, ct);
            if (string.IsNullOrWhiteSpace(body.Target)) throw new BadRequestException("target is required (an app, app#instance, id or all)");
            var env = body.UpdateEnv ? body.Env ?? new Dictionary<string, string>() : null;
            return Answer(await s.RestartAsync(body.Target, env, ct));
        });
        MapTargetAction(app, ApiRoutes.Delete, (s, t, ct) => s.DeleteAsync(t, ct));
        MapTargetAction(app, ApiRoutes.Reset, (s, t, ct) => s.ResetAsync(t, ct));
        MapTargetAction(app, ApiRoutes.Flush, (s, t, ct) => s.FlushAsync(t, ct));
        MapTargetAction(app, ApiRoutes.ReopenLogs, (s, t, ct) => s.ReopenLogsAsync(t, ct));

        app.MapPost(ApiRoutes.Signal, async (HttpRequest request, Supervisor s, CancellationToken ct) =>
        {
            SignalRequest body = await ReadBody(request, json.SignalRequest, ct);
            if (!Signals.TryParse(body.Signal, out int signal))
                throw new BadRequestException($"unknown signal \"{body.Signal}\" (try SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGINT, SIGKILL or a number)");
            SignalScope scope = body.Scope switch
            {
                null or "main" => SignalScope.Main,
                "group" => SignalScope.Group,
                _ => throw new BadRequestException($"unknown scope \"{body.Scope}\" (main or group)"),
            };
            return Answer(s.Signal(body.Target, signal, scope));
        });

        app.MapPost(ApiRoutes.Reload, async (HttpRequest request, Supervisor s, CancellationToken ct) =>
        {
            ReloadRequest body = await ReadBody(request, json.ReloadRequest, ct);
            if (string.IsNullOrWhiteSpace(body.Target)) throw new BadRequestException("target is required (an app or all)");
            if (body.Parallel is < 1) throw new BadRequestException($"--parallel must be 1 or more, not {body.Parallel}");
            var env = body.UpdateEnv ? body.Env ?? new Dictionary<string, string>() : null;
            return Answer(await s.ReloadAsync(body.Target, body.Parallel, env, ct));
        });

        app.MapPost(ApiRoutes.Deploy, async (HttpRequest request, Supervisor s, CancellationToken ct) =>
        {
            DeployRequest body = await ReadBody(request, json.DeployRequest, ct);
            if (string.IsNullOrWhiteSpace(body.App)) throw new BadRequestException("app is required");
            return Answer(await s.DeployAsync(body.App, body.Strategy, body.Canary,
                body.WaitMs is long w ? TimeSpan.FromMilliseconds(w) : null, body.WarmupMs is long m ? TimeSpan.FromMilliseconds(m) : null,
                body.Env ?? new Dictionary<string, string>(), ct));
        });

        app.MapPost(ApiRoutes.Scale, async (HttpRequest request, Supervisor s, CancellationToken ct) =>
        {
            ScaleRequest body = await ReadBody(request, json.ScaleRequest, ct);
            if (string.IsNullOrWhiteSpace(body.App)) throw new BadRequestException("app is required");
            if ((body.Count is null) == (body.Delta is null)) throw new BadRequestException("give count (N) or delta (+N/-N)");
            return Answer(await s.ScaleAsync(body.App, body.Count, body.Delta, ct));
        });

        app.MapPost(ApiRoutes.Save, (bool? force, Supervisor s) => Answer(s.Save(force ?? false)));
        app.MapPost(ApiRoutes.Resurrect, async (Supervisor s, CancellationToken ct) => Answer(await s.ResurrectAsync(ct)));

        app.MapPost(ApiRoutes.Kill, async (Supervisor s, IHostApplicationLifetime lifetime, ServiceManagerLink serviceManager) =>
        {
            serviceManager.Stopping();
            // Stop the apps before answering, so `tend kill` returning means they are gone;
            // the daemon itself exits right after the answer is sent.
            await s.ShutdownAsync();
            lifetime.StopApplication();
            return Results.Json(new ActionResult([], "stopped all apps; daemon exiting"), json.ActionResult);
        });

        app.MapPost(ApiRoutes.Upgrade, async (HttpRequest request, HttpContext context, Supervisor s, DaemonUpgrade upgrade, CancellationToken ct) =>
        {
            UpgradeRequest body = await ReadBody(request, json.UpgradeRequest, ct);
            if ((DaemonUpgrade.Check(body) ?? await DaemonUpgrade.TryRunAsync(body, ct)) is string problem) throw new BadRequestException("upgrade: " + problem);
            int running = s.List().Count(i => i.Pid is not null);
            // The answer goes out first: the hand-over replaces this process, connection and all.
            context.Response.OnCompleted(() =>
            {
                Task.Run(() => upgrade.RunAsync(body)).ConfigureAwait(false);
                return Task.CompletedTask;
            });
            context.Items[AuditRecorder.AnswerKey] = $"handing over {running} running instances to {body.Program}";
            return Results.Json(new UpgradeAnswer(Environment.ProcessId, ThisAssembly.Version, running,
                $"handing over {running} running instances to {body.Program} in this process (pid {Environment.ProcessId})"), json.UpgradeAnswer);
        });

        app.MapGet(ApiRoutes.Logs, LogStreaming.StreamAsync);
        app.MapGet(ApiRoutes.Events, EventStreaming.StreamNdjsonAsync);
        // On the socket only: over TCP the dashboard reads /v1/events (TcpAccess's allowlist), since
        // an EventSource cannot send the bearer token.
        app.MapGet(ApiRoutes.EventStream, EventStreaming.StreamSseAsync);
    }

    private static void MapTargetAction(WebApplication app, string route, Func<Supervisor, string, CancellationToken, Task<CommandOutcome>> action)
    {
        app.MapPost(route, async (HttpRequest request, Supervisor s, CancellationToken ct) =>
        {
            TargetRequest body = await ReadBody(request, TendJsonContext.Default.TargetRequest, ct);
            if (string.IsNullOrWhiteSpace(body.Target)) throw new BadRequestException("target is required (an app, app#instance, id or all)");
            return Answer(await action(s, body.Target, ct));
        });
    }

    private static IResult Answer(CommandOutcome outcome) => new Answered(OutcomeText.ToResult(outcome));

    /// <summary>The answer, and its sentence left for the audit record (<see cref="AuditRecorder"/>).</summary>
    private sealed class Answered(ActionResult result) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Items[AuditRecorder.AnswerKey] = result.Message;
            return Results.Json(result, TendJsonContext.Default.ActionResult).ExecuteAsync(context);
        }
    }

    private static async Task<T> ReadBody<T>(HttpRequest request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken ct)
    {
        T? body = await JsonSerializer.DeserializeAsync(request.Body, type, ct);
        return body ?? throw new BadRequestException("empty request body");
    }

    private static Task WriteError(HttpContext context, int status, string error, IReadOnlyList<string> details, int exitCode)
    {
        context.Response.StatusCode = status;
        context.Items[AuditRecorder.AnswerKey] = error + (details.Count > 0 ? ": " + string.Join("; ", details) : "");
        return context.Response.WriteAsJsonAsync(new ErrorResponse(error, details, exitCode), TendJsonContext.Default.ErrorResponse);
    }
}

/// <summary>A malformed request; the CLI exits 2.</summary>
internal sealed class BadRequestException(string message) : Exception(message);

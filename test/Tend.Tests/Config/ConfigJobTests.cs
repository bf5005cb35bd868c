using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>schedule: its forms and what a job cannot also be.</summary>
public sealed class ConfigJobTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Load_ScheduleForms_AndAJobIsNeverRestarted()
    {
        AppSpec plain = _dir.Load("apps:\n  job:\n    run: node job.js\n    schedule: \"*/5 * * * *\"\n").Apps.Single();
        Assert.Equal(new JobSpec("*/5 * * * *", null), plain.Job);
        Assert.Equal(RestartPolicy.Never, plain.Restart);

        AppSpec full = _dir.Load("apps:\n  job:\n    run: node job.js\n    schedule:\n      cron: \"0 30 3 * * *\"\n      timezone: Europe/Berlin\n      jitter: 30s\n      concurrency: replace\n      starting_deadline: 5m\n      catch_up: true\n      timeout: 1h\n      history: 50\n").Apps.Single();
        Assert.Equal(new JobSpec("0 30 3 * * *", "Europe/Berlin")
        {
            Jitter = TimeSpan.FromSeconds(30), Concurrency = JobConcurrency.Replace, StartingDeadline = TimeSpan.FromMinutes(5),
            CatchUp = true, Timeout = TimeSpan.FromHours(1), History = 50,
        }, full.Job);
    }

    [Fact]
    public void Load_BadSchedule_ExactErrors()
    {
        Assert.Equal(["ROOT/tend.yaml:5:14: apps.job.restart: a job (schedule:) runs once per occurrence and is never restarted; remove restart: always"],
            _dir.Errors("apps:\n  job:\n    run: node job.js\n    schedule: \"* * * * *\"\n    restart: always\n"));
        Assert.Equal(["ROOT/tend.yaml:5:16: apps.job.instances: a job (schedule:) runs one process per occurrence; concurrency: allow lets runs overlap"],
            _dir.Errors("apps:\n  job:\n    run: node job.js\n    schedule: \"* * * * *\"\n    instances: 2\n"));
        Assert.Equal(["ROOT/tend.yaml:4:49: apps.job.schedule.concurrency: expected forbid, allow or replace, got \"queue\""],
            _dir.Errors("apps:\n  job:\n    run: node job.js\n    schedule: { cron: \"* * * * *\", concurrency: queue }\n"));
        Assert.Equal(["ROOT/tend.yaml:4:15: apps.job.schedule: expected a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), got 1: \"daily\""],
            _dir.Errors("apps:\n  job:\n    run: node job.js\n    schedule: daily\n"));
    }
}

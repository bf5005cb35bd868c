using System.Runtime.InteropServices;
using Tend.Pool.TestShapes;
using Tend.Pool.Worker;

// poolworker [--version V] [--broken] [--exit-at-start] [--ready-after MS]
string version = "v1";
bool broken = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--version": version = args[++i]; break;
        case "--broken": broken = true; break;
        case "--exit-at-start": return 3;
        case "--ready-after": Thread.Sleep(int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture)); break;
    }
}
Console.WriteLine($"worker {PoolWorker.WorkerId} {version} up");
var hoard = new List<byte[]>();

await PoolWorker.RunAsync(async (Job job, CancellationToken ct) =>
{
    if (broken) throw new InvalidOperationException($"{version} is a broken build");
    switch (job.Op)
    {
        case "sleep":
            await Task.Delay(job.Ms, ct);
            break;
        case "crash":
            Environment.FailFast("asked to crash");
            break;
        case "exit":
            Environment.Exit(7);
            break;
        case "freeze":
            // SIGSTOP: no thread of it runs any more, pings included. Again whenever it is woken: a thread
            // of ours that was already exiting when the stop came makes the kernel send this stopped,
            // newly orphaned process group SIGHUP and SIGCONT (kill_orphaned_pgrp), and once in a CI
            // run the frozen worker woke and answered. The SIGHUP is caught so that it does not end us.
            using (PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true))
            {
                while (true) Kill(Environment.ProcessId, 19);
            }
        case "spin":
            var until = DateTime.UtcNow.AddMilliseconds(job.Ms);
            while (DateTime.UtcNow < until) { }
            break;
        case "grow":
            var block = new byte[job.Bytes];
            Random.Shared.NextBytes(block);
            hoard.Add(block);
            break;
        case "throw":
            throw new ArgumentException(job.Text ?? "asked to throw");
        case "print":
            Console.WriteLine(job.Text);
            Console.Error.WriteLine("err: " + job.Text);
            break;
        case "wait-cancel":
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                File.WriteAllText(job.Text!, "cancelled");
                throw;
            }
            break;
    }
    return new Answer(Environment.ProcessId, version, job.Text, PoolWorker.WorkerId);
}, TestJson.Default.Job, TestJson.Default.Answer);
return 0;

[DllImport("libc", EntryPoint = "kill", SetLastError = true)]
static extern int Kill(int pid, int signal);

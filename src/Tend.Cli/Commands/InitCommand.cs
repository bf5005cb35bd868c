using System.CommandLine;

namespace Tend.Cli.Commands;

/// <summary>
/// `tend init [FILE]` (PM2's init, which writes an ecosystem file): a commented tend.yaml to start from.
/// Its one app runs as written on any Linux (sh and sleep), so `tend init && tend start` works at once;
/// the comments show the usual keys. An existing file is left alone unless --force.
/// </summary>
internal sealed class InitCommand : TendCommand
{
    private readonly Argument<string> _file = new("file")
    {
        Description = "Where to write it",
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => "tend.yaml",
    };
    private readonly Option<bool> _force = new("--force", "-f") { Description = "Replace the file if it exists" };

    public InitCommand(CliContext context) : base("init", "Write a commented tend.yaml to start from (PM2's init).", context)
    {
        Aliases.Add("ecosystem"); // PM2's other name for it
        Add(_file);
        Add(_force);
    }

    protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        string path = Path.GetFullPath(parseResult.GetRequiredValue(_file), Context.CurrentDirectory);
        if (File.Exists(path) && !parseResult.GetValue(_force)) throw new CliException($"{path} exists; --force replaces it", 2);
        if (Directory.Exists(path)) throw new CliException($"{path} is a directory", 2);
        try
        {
            File.WriteAllText(path, Template);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {path}: {e.Message}", 1);
        }
        string shown = Path.GetRelativePath(Context.CurrentDirectory, path);
        string named = shown == "tend.yaml" ? "" : " " + shown; // tend start and tend check take ./tend.yaml by themselves
        Out(parseResult).WriteLine($"wrote {shown}: `tend start{named}` runs it, `tend check{named}` checks a change");
        return Task.FromResult(0);
    }

    /// <summary>What `tend init` writes. A test loads it, and again with every commented key taken in.</summary>
    internal const string Template = """
        # tend.yaml: every key, its default and its unit are in docs/config.md.
        #   tend start                  start the apps below (again after a change: changed apps are replaced)
        #   tend check                  check a change without starting anything
        #   tend startOrReload tend.yaml  deploy: reload what runs (no downtime), start what is new
        apps:
          hello:
            # The command, split as a shell would (no shell runs it), e.g. node server.js, python3 app.py, ./bin/server
            run: sh -c 'echo "hello from $TEND_APP#$TEND_INSTANCE"; exec sleep infinity'
            instances: 2                # or max: one per CPU (TEND_INSTANCE tells them apart)
            env:
              GREETING: hello
            # The working directory is this file's unless cwd: says otherwise.
            #restart: on-failure        # always (the default), on-failure or never
            #max_memory: 300M           # restart an instance whose memory passes this
            #kill_timeout: 10s          # SIGTERM, then SIGKILL after this long
            #ready:                     # what makes an instance ready: reloads wait for it
            #  http: http://127.0.0.1:3000/health
            #log: { max_size: 50M, max_files: 5 }
        """ + "\n";
}

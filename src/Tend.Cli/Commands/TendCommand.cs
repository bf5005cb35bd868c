using System.CommandLine;

namespace Tend.Cli.Commands;

/// <summary>
/// Base of every tend command: runs <see cref="ExecuteAsync"/> and turns a <see cref="CliException"/>
/// into "error: …" on stderr and its exit code. Output goes to the InvocationConfiguration's
/// writers, so tests can run the command tree in-process against a StringWriter.
/// </summary>
internal abstract class TendCommand : Command
{
    protected TendCommand(string name, string description, CliContext context) : base(name, description)
    {
        Context = context;
        SetAction(InvokeAsync);
    }

    protected CliContext Context { get; }

    protected abstract Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct);

    protected static TextWriter Out(ParseResult parseResult) => parseResult.InvocationConfiguration.Output;

    protected static TextWriter Error(ParseResult parseResult) => parseResult.InvocationConfiguration.Error;

    private async Task<int> InvokeAsync(ParseResult parseResult, CancellationToken ct)
    {
        try
        {
            RefuseOptionsAsTargets(parseResult);
            return await ExecuteAsync(parseResult, ct).ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            WriteError(Error(parseResult), ex);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 130; // 128 + SIGINT, what shells expect after Ctrl-C
        }
    }

    /// <summary>
    /// `tend stop --bogus`: the parser hands a word it does not know as an option to an argument that is
    /// still free. A target or an app never starts with '-', so such a word is a mistyped option: a usage
    /// error (exit 2) before anything asks, or starts, a daemon.
    /// </summary>
    private void RefuseOptionsAsTargets(ParseResult parseResult)
    {
        foreach (Argument argument in Arguments)
        {
            if (argument.Name is not ("target" or "app")) continue;
            if (parseResult.GetResult(argument) is not { } result) continue;
            foreach (var token in result.Tokens)
            {
                if (token.Value.StartsWith('-'))
                    throw new CliException($"unknown option '{token.Value}'", 2, [$"tend {Name} --help lists the options"]);
            }
        }
    }

    internal static void WriteError(TextWriter error, CliException ex)
    {
        error.WriteLine("error: " + ex.Message);
        foreach (string detail in ex.Details) error.WriteLine(detail);
    }
}

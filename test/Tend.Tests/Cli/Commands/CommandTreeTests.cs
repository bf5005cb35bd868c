using System.CommandLine;
using Tend.Cli;
using Tend.Cli.Entry;

namespace Tend.Tests.Cli.Commands;

/// <summary>
/// A call that names its command builds only that command (start-up time): these check the short
/// tree against the whole one, so a command added to one list and not the other, or an alias missed,
/// fails here rather than as "unknown command" in a user's shell.
/// </summary>
public sealed class CommandTreeTests
{
    private static readonly CliContext s_context = new() { Home = "/nonexistent" };

    public static TheoryData<string> EveryWord()
    {
        var words = new TheoryData<string>();
        foreach (Command command in TendCli.CreateRootCommand(s_context).Subcommands)
        {
            words.Add(command.Name);
            foreach (string alias in command.Aliases) words.Add(alias);
        }
        return words;
    }

    [Theory]
    [MemberData(nameof(EveryWord))]
    public void ANamedCommand_BuildsThatCommandAlone_TheSameAsInTheWholeTree(string word)
    {
        Command whole = TendCli.CreateRootCommand(s_context).Subcommands.Single(c => c.Name == word || c.Aliases.Contains(word));

        RootCommand root = TendCli.CreateRootCommand(s_context, [word, "--help"]);

        Command alone = Assert.Single(root.Subcommands);
        Assert.Equal(whole.Name, alone.Name);
        Assert.Equal(whole.Aliases.Order(), alone.Aliases.Order());
        Assert.Equal(whole.Options.Select(o => o.Name), alone.Options.Select(o => o.Name));
        Assert.Equal(whole.Subcommands.Select(c => c.Name), alone.Subcommands.Select(c => c.Name));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("strat")]
    [InlineData("@args.rsp")]
    public void AnythingElse_BuildsTheWholeTree(string first)
    {
        int all = TendCli.CreateRootCommand(s_context).Subcommands.Count;

        Assert.Equal(all, TendCli.CreateRootCommand(s_context, [first]).Subcommands.Count);
        Assert.Equal(all, TendCli.CreateRootCommand(s_context, []).Subcommands.Count);
    }

    [Fact]
    public void TheShortTree_ParsesAsTheWholeOne()
    {
        string[] args = ["logs", "web", "--lines", "5", "--no-follow"];

        ParseResult whole = TendCli.CreateRootCommand(s_context).Parse(args);
        ParseResult alone = TendCli.CreateRootCommand(s_context, args).Parse(args);

        Assert.Empty(alone.Errors);
        Assert.Equal(whole.CommandResult.Command.Name, alone.CommandResult.Command.Name);
        Assert.Equal(whole.GetValue<int>("--lines"), alone.GetValue<int>("--lines"));
        Assert.Equal(5, alone.GetValue<int>("--lines"));
    }
}

using Tend.Config;

namespace Tend.Tests.Config;

public sealed class ShellWordsTests
{
    [Theory]
    [InlineData("node app.js", new[] { "node", "app.js" })]
    [InlineData("  spaced\t out \n lines  ", new[] { "spaced", "out", "lines" })]
    [InlineData("echo 'single $HOME \\n'", new[] { "echo", "single $HOME \\n" })]
    [InlineData("echo \"a \\\"b\\\" \\\\ \\$x \\n\"", new[] { "echo", "a \"b\" \\ $x \\n" })]
    [InlineData("echo a\\ b \\'c", new[] { "echo", "a b", "'c" })]
    [InlineData("echo pre'mid'\"post\"", new[] { "echo", "premidpost" })]
    [InlineData("echo '' \"\"", new[] { "echo", "", "" })]
    [InlineData("first \\\nsecond", new[] { "first", "second" })]
    [InlineData("glob *.js $VAR ~", new[] { "glob", "*.js", "$VAR", "~" })]
    [InlineData("", new string[0])]
    public void Split_PosixRules(string line, string[] expected)
    {
        Assert.Equal(expected, ShellWords.Split(line));
    }

    [Theory]
    [InlineData("node -e 'x", "unterminated single quote (opened at character 9)")]
    [InlineData("say \"hi", "unterminated double quote (opened at character 5)")]
    [InlineData("say \"hi\\\"", "unterminated double quote (opened at character 5)")]
    [InlineData("trailing \\", "a lone backslash ends the command (character 10); write \\\\ for a literal backslash")]
    public void TrySplit_BadLine_ExplainsWhere(string line, string expected)
    {
        Assert.False(ShellWords.TrySplit(line, out _, out string? error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void TrySplit_MarksQuotedWords()
    {
        Assert.True(ShellWords.TrySplit("a '|' \\> >", out var words, out _));

        Assert.Equal([false, true, true, false], words.Select(w => w.Quoted));
    }
}

using Tend.Config;

namespace Tend.Tests.Config;

public sealed class SuggestTests
{
    private static readonly string[] s_keys = ["instances", "increment_var", "restart", "restart_delay", "max_restarts", "env", "cwd", "run"];

    [Theory]
    [InlineData("instnaces", "instances")]
    [InlineData("Instances", "instances")]
    [InlineData("max-restarts", "max_restarts")]
    [InlineData("restart_dealy", "restart_delay")]
    [InlineData("rn", "run")]
    [InlineData("evn", "env")]
    public void Nearest_FindsTypos(string input, string expected)
    {
        Assert.Equal(expected, Suggest.Nearest(input, s_keys));
    }

    [Theory]
    [InlineData("colour")]
    [InlineData("ab")]
    [InlineData("cmdx")]
    public void Nearest_NothingCloseEnough_ReturnsNull(string input)
    {
        Assert.Null(Suggest.Nearest(input, s_keys));
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "", 3)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("ab", "ba", 1)]
    [InlineData("instnaces", "instances", 1)]
    public void Distance_CountsTranspositionAsOne(string a, string b, int expected)
    {
        Assert.Equal(expected, Suggest.Distance(a, b));
    }
}

using Tend.Cli.Monit;

namespace Tend.Tests.Cli.Monit;

public sealed class MonitKeysTests
{
    private static ConsoleKeyInfo Key(char c, ConsoleKey key = default, bool control = false) => new(c, key, false, false, control);

    [Fact]
    public void Map_TheDocumentedKeys()
    {
        Assert.Equal(MonitKey.Up, MonitKeys.Map(Key('\0', ConsoleKey.UpArrow)));
        Assert.Equal(MonitKey.Down, MonitKeys.Map(Key('\0', ConsoleKey.DownArrow)));
        Assert.Equal(MonitKey.Up, MonitKeys.Map(Key('k', ConsoleKey.K)));
        Assert.Equal(MonitKey.Down, MonitKeys.Map(Key('j', ConsoleKey.J)));
        Assert.Equal(MonitKey.Restart, MonitKeys.Map(Key('r', ConsoleKey.R)));
        Assert.Equal(MonitKey.Stop, MonitKeys.Map(Key('s', ConsoleKey.S)));
        Assert.Equal(MonitKey.Reload, MonitKeys.Map(Key('l', ConsoleKey.L)));
        Assert.Equal(MonitKey.Quit, MonitKeys.Map(Key('q', ConsoleKey.Q)));
        Assert.Equal(MonitKey.Quit, MonitKeys.Map(Key('\u0003', ConsoleKey.C, control: true)));
        Assert.Equal(MonitKey.None, MonitKeys.Map(Key('\u001b', ConsoleKey.Escape)));
        Assert.Equal(MonitKey.None, MonitKeys.Map(Key('x', ConsoleKey.X)));
    }
}

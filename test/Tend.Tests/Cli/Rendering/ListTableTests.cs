using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Tests.Cli.Rendering;

public sealed class ListTableTests
{
    internal static InstanceInfo Row(int id, string name, int instance, int? pid, string status, bool ready = true,
        int restarts = 0, long uptimeMs = 0, double cpu = 0, long mem = 0) =>
        new(id, name, instance, pid, status, ready, restarts, uptimeMs, cpu, mem, null, null);

    [Fact]
    public void Render_Rows_AlignsColumnsInABox()
    {
        string table = ListTable.Render(
        [
            Row(0, "web", 0, 4242, "online", uptimeMs: 12_000, cpu: 12.5, mem: 12_897_484),
            Row(1, "web", 1, 4243, "online", ready: false, restarts: 3, uptimeMs: 5 * 60_000, mem: 2048),
            Row(2, "worker", 0, null, "errored", ready: false, restarts: 15, uptimeMs: 0),
        ], color: false);

        Assert.Equal(
            """
            ┌────┬────────┬──────┬──────┬─────────┬───────┬────┬────────┬───────┬────────┐
            │ id │ name   │ inst │ pid  │ status  │ ready │ ↺  │ uptime │ cpu   │ mem    │
            ├────┼────────┼──────┼──────┼─────────┼───────┼────┼────────┼───────┼────────┤
            │ 0  │ web    │ 0    │ 4242 │ online  │ yes   │ 0  │ 12s    │ 12.5% │ 12.3mb │
            │ 1  │ web    │ 1    │ 4243 │ online  │ no    │ 3  │ 5m     │ 0%    │ 2.0kb  │
            │ 2  │ worker │ 0    │ -    │ errored │ -     │ 15 │ 0      │ 0%    │ 0b     │
            └────┴────────┴──────┴──────┴─────────┴───────┴────┴────────┴───────┴────────┘

            """.Replace("\r\n", "\n"),
            table);
    }

    [Fact]
    public void Render_StatusText_AddsATruncatedNoteColumn()
    {
        string table = ListTable.Render(
        [
            Row(0, "web", 0, 4242, "online", ready: false) with { StatusText = "warming up: loading the model into memory, 42% done" },
            Row(1, "web", 1, 4243, "online"),
        ], color: false);

        Assert.Equal(
            """
            ┌────┬──────┬──────┬──────┬────────┬───────┬───┬────────┬─────┬─────┬──────────────────────────────────────────┐
            │ id │ name │ inst │ pid  │ status │ ready │ ↺ │ uptime │ cpu │ mem │ note                                     │
            ├────┼──────┼──────┼──────┼────────┼───────┼───┼────────┼─────┼─────┼──────────────────────────────────────────┤
            │ 0  │ web  │ 0    │ 4242 │ online │ no    │ 0 │ 0s     │ 0%  │ 0b  │ warming up: loading the model into memo… │
            │ 1  │ web  │ 1    │ 4243 │ online │ yes   │ 0 │ 0s     │ 0%  │ 0b  │                                          │
            └────┴──────┴──────┴──────┴────────┴───────┴───┴────────┴─────┴─────┴──────────────────────────────────────────┘

            """.Replace("\r\n", "\n"),
            table);
    }

    [Fact]
    public void Render_Empty_PrintsHeaderAndHint()
    {
        string table = ListTable.Render([], color: false);

        Assert.Equal(
            """
            ┌────┬──────┬──────┬─────┬────────┬───────┬───┬────────┬─────┬─────┐
            │ id │ name │ inst │ pid │ status │ ready │ ↺ │ uptime │ cpu │ mem │
            └────┴──────┴──────┴─────┴────────┴───────┴───┴────────┴─────┴─────┘

            """.Replace("\r\n", "\n") + ListTable.EmptyHint + "\n",
            table);
    }

    [Theory]
    [InlineData("online", "\u001b[32m")]
    [InlineData("errored", "\u001b[31m")]
    [InlineData("waiting", "\u001b[33m")]
    [InlineData("launching", "\u001b[33m")]
    [InlineData("stopped", "\u001b[90m")]
    public void Render_Color_PaintsStatusWithoutMovingBorders(string status, string sgr)
    {
        string plain = ListTable.Render([Row(0, "web", 0, 1, status)], color: false);
        string colored = ListTable.Render([Row(0, "web", 0, 1, status)], color: true);

        Assert.Contains(sgr + status.PadRight(Math.Max("status".Length, status.Length)) + "\u001b[0m", colored);
        string stripped = System.Text.RegularExpressions.Regex.Replace(colored, "\u001b\\[[0-9;]*m", "");
        Assert.Equal(plain, stripped);
    }
}

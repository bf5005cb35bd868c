using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Tests.Cli.Rendering;

public sealed class TreeTextTests
{
    private static TreeNodeInfo AppNode(string name, string status, int restarts, int[] pids, params string[] dependsOn) =>
        new(name, "app", null, status, restarts, null, null, "always", null, pids, dependsOn, []);

    [Fact]
    public void Render_Tree_OneLinePerNodeWithStrategyStatusAndRestarts()
    {
        var root = new TreeNodeInfo("root", "supervisor", "one_for_one", "running", 0, null, null, "always", null, [], [],
        [
            AppNode("web", "online", 0, [10]),
            new TreeNodeInfo("backend", "supervisor", "rest_for_one", "running", 2, 3, 10_000, "always", null, [], [],
            [
                AppNode("db", "online", 1, [20]),
                new TreeNodeInfo("jobs", "supervisor", "one_for_all", "failed", 1, 0, 5_000, "on-failure", "gave up", [], [],
                [
                    AppNode("mailer", "stopped", 0, []),
                ]),
                AppNode("api", "online", 1, [30, 31], "db (ready)"),
            ]),
        ]);

        Assert.Equal("""
            root  one_for_one  running
            ├─ web  online  pid 10  ↺ 0
            └─ backend  rest_for_one  running  ↺ 2 (max 3 in 10s)
               ├─ db  online  pid 20  ↺ 1
               ├─ jobs  one_for_all  failed  ↺ 1 (max 0 in 5s)  restart: on-failure  (gave up)
               │  └─ mailer  stopped  ↺ 0
               └─ api  online  pids 30,31  ↺ 1  after db (ready)

            """.Replace("\r", ""), TreeText.Render(root, color: false));
    }
}

using Tend.Config;
using Tend.Isolation;

namespace Tend.Tests.Config;

/// <summary>user, group, supplementary_groups, umask, limits, no_new_privs, capabilities and resources: what they resolve to, and mistakes with their lines.</summary>
public sealed class ConfigIsolationTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private AppSpec LoadApp(string appYaml) => _dir.Load("apps:\n  web:\n    run: node web.js\n" + appYaml).Apps.Single();

    private string Error(string appYaml) => Assert.Single(_dir.Errors("apps:\n  web:\n    run: node web.js\n" + appYaml));

    [Fact]
    public void User_ResolvedFromTheUserDatabase_WithItsGroupsAndEnvironment()
    {
        // The test host runs as root (the daemon must be root to switch users).
        UserAccount nobody = UserAccounts.FindUser("nobody")!;
        AppSpec app = LoadApp("    user: nobody\n");
        Assert.Equal("nobody", app.Isolation.UserName);
        Assert.Equal(nobody.Uid, app.Isolation.Uid);
        Assert.Equal(nobody.Gid, app.Isolation.Gid);
        Assert.Equal(UserAccounts.GroupsOf("nobody", nobody.Gid), app.Isolation.Groups!.Value.ToArray());
        Assert.Equal(nobody.Home, app.Env["HOME"]);
        Assert.Equal("nobody", app.Env["USER"]);
        Assert.Equal("nobody", app.Env["LOGNAME"]);
        Assert.Equal(nobody.Shell, app.Env["SHELL"]);
    }

    [Fact]
    public void User_EnvironmentTheConfigSets_IsKept()
    {
        AppSpec app = LoadApp("    user: nobody\n    env: { HOME: /srv/web }\n");
        Assert.Equal("/srv/web", app.Env["HOME"]);
        Assert.Equal("nobody", app.Env["USER"]);
    }

    [Fact]
    public void GroupAndSupplementaryGroups_NamesAndIds()
    {
        GroupAccount nogroup = UserAccounts.FindGroup("nogroup")!;
        AppSpec app = LoadApp("    user: nobody\n    group: nogroup\n    supplementary_groups: [4, nogroup]\n");
        Assert.Equal(nogroup.Gid, app.Isolation.Gid);
        Assert.Equal([4u, nogroup.Gid], app.Isolation.Groups!.Value.ToArray());
    }

    [Fact]
    public void NumericUser_WithoutADatabaseEntry_RunsAsThatId()
    {
        AppSpec app = LoadApp("    user: 54321\n");
        Assert.Equal(54321u, app.Isolation.Uid);
        Assert.Equal(54321u, app.Isolation.Gid);
        Assert.Equal([54321u], app.Isolation.Groups!.Value.ToArray());
    }

    [Fact]
    public void UnknownUserOrGroup_ErrorsWithTheLine()
    {
        Assert.Equal("ROOT/tend.yaml:4:11: apps.web.user: no user \"no-such-user-xyz\" on this host (see getent passwd)", Error("    user: no-such-user-xyz\n"));
        Assert.Equal("ROOT/tend.yaml:4:12: apps.web.group: no group \"no-such-group\" on this host (see getent group)", Error("    group: no-such-group\n"));
        Assert.StartsWith("ROOT/tend.yaml:4:28: apps.web.supplementary_groups: no group \"nope-xyz\"", Error("    supplementary_groups: [nope-xyz]\n"));
    }

    [Fact]
    public void LimitsUmaskNoNewPrivsCapabilities_Parsed()
    {
        AppSpec app = LoadApp("    umask: \"027\"\n    limits: { nofile: \"1024:4096\", core: infinity, memlock: 64M, nproc: 200 }\n" +
            "    no_new_privs: true\n    capabilities: [CAP_NET_BIND_SERVICE, cap_sys_nice, net_raw]\n");
        Assert.Equal(0x17, app.Isolation.Umask);
        Assert.Equal(
            [new ResourceLimit("nofile", 1024, 4096), new ResourceLimit("core", ResourceLimit.Infinity, ResourceLimit.Infinity),
             new ResourceLimit("memlock", 64 << 20, 64 << 20), new ResourceLimit("nproc", 200, 200)],
            app.Isolation.Limits.ToArray());
        Assert.True(app.Isolation.NoNewPrivileges);
        Assert.Equal(["net_bind_service", "sys_nice", "net_raw"], app.Isolation.Capabilities!.Value.ToArray());
    }

    [Theory]
    [InlineData("    umask: 899\n", "ROOT/tend.yaml:4:12: apps.web.umask: expected an octal mode like 022 or 0027, got \"899\"")]
    [InlineData("    limits: { nofiles: 10 }\n", "ROOT/tend.yaml:4:15: apps.web.limits.nofiles: unknown key \"nofiles\"; did you mean \"nofile\"?")]
    [InlineData("    limits: { nofile: \"20:10\" }\n", "ROOT/tend.yaml:4:23: apps.web.limits.nofile: the soft limit (20) is above the hard limit (10)")]
    [InlineData("    limits: { nofile: lots }\n", "ROOT/tend.yaml:4:23: apps.web.limits.nofile: expected a number, \"soft:hard\" or infinity, got \"lots\"")]
    [InlineData("    capabilities: [CAP_NET_BIND]\n", "ROOT/tend.yaml:4:20: apps.web.capabilities[0]: \"CAP_NET_BIND\" is not a Linux capability (like CAP_NET_BIND_SERVICE); did you mean \"net_bind_service\"?")]
    [InlineData("    resources: { cpu_max: lots }\n", "ROOT/tend.yaml:4:27: apps.web.resources.cpu_max: expected a share of one core like 50% or a number of cores like 1.5, got \"lots\"")]
    [InlineData("    resources: { memory_maxx: 1G }\n", "ROOT/tend.yaml:4:18: apps.web.resources.memory_maxx: unknown key \"memory_maxx\"; did you mean \"memory_max\"?")]
    [InlineData("    uid: www\n", "ROOT/tend.yaml:4:5: apps.web.uid: unknown key \"uid\"; Tend calls it user (a name or a numeric id)")]
    public void Mistakes_ErrorWithLineAndField(string appYaml, string expected) => Assert.Equal(expected, Error(appYaml));

    [Fact]
    public void Resources_Parsed()
    {
        AppSpec app = LoadApp("    resources: { memory_max: 512M, memory_high: 400M, cpu_max: 50%, pids_max: 64 }\n");
        Assert.Equal(new CgroupResources(512L << 20, 400L << 20, 0.5, 64), app.Isolation.Resources);
        Assert.Equal(1.5, LoadApp("    resources: { cpu_max: 1.5 }\n").Isolation.Resources.CpuMax);
    }

    [Fact]
    public void Resources_ADaemonWithoutCgroupsCannotEnforce_AreErrorsWithTheirLines()
    {
        string path = _dir.Write("tend.yaml", "apps:\n  web:\n    run: node web.js\n    resources:\n      memory_max: 50M\n      pids_max: 20\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, _dir.BaseEnv, CgroupTree.Disabled("turned off (TEND_CGROUP=off)")));
        Assert.Equal(
            ["ROOT/tend.yaml:5:7: apps.web.resources.memory_max: cannot be enforced: this daemon runs apps without cgroups (turned off (TEND_CGROUP=off)); see tend doctor",
             "ROOT/tend.yaml:6:7: apps.web.resources.pids_max: cannot be enforced: this daemon runs apps without cgroups (turned off (TEND_CGROUP=off)); see tend doctor"],
            e.Errors.Select(x => x.ToString().Replace(_dir.Root, "ROOT")));
    }

    [Fact]
    public void Cwd_TheUserCannotEnter_IsAnError()
    {
        string locked = Path.Combine(_dir.Root, "locked");
        Directory.CreateDirectory(Path.Combine(locked, "app"));
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string error = Error($"    user: nobody\n    cwd: {locked}/app\n");
        Assert.Equal($"ROOT/tend.yaml:5:10: apps.web.cwd: user nobody cannot enter ROOT/locked (no search permission), so it cannot run in ROOT/locked/app; " +
            "set cwd: to a directory it can reach, or open the path to it (chmod o+x)", error);
        // Root may enter anything.
        Assert.Null(LoadApp($"    cwd: {locked}/app\n").Isolation.Uid);
    }

    [Fact]
    public void NoIsolationKeys_NothingForTheSpawn() => Assert.Null(LoadApp("").Isolation.ForSpawn());
}

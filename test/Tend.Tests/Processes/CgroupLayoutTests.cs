using Tend.Isolation;

namespace Tend.Tests.Processes;

/// <summary>The layouts Tend must find its place in: pure v2 (systemd today), hybrid (this machine), v1, and a container's view.</summary>
public sealed class CgroupLayoutTests
{
    private const string V1Mounts = """
        31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        """;

    [Fact]
    public void PureV2_UnderASystemdUnit()
    {
        var layout = CgroupLayout.Parse(
            "25 20 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
            "0::/system.slice/tend.service\n");
        Assert.Equal("/sys/fs/cgroup/system.slice/tend.service", layout.UnifiedDirectory);
        Assert.Empty(layout.V1Directories);
        Assert.Equal("/sys/fs/cgroup", layout.MountPoints[""]);
    }

    [Fact]
    public void Hybrid_V2TreeAndV1Controllers()
    {
        var layout = CgroupLayout.Parse(
            V1Mounts + "\n40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
            "8:pids:/\n6:freezer:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n");
        Assert.Equal(CgroupMode.Hybrid, layout.Mode);
        Assert.Equal("/sys/fs/cgroup/unified", layout.UnifiedDirectory);
        Assert.Equal("/sys/fs/cgroup/memory/process_api/abc", layout.V1Directories["memory"]);
        Assert.Equal("/sys/fs/cgroup/pids", layout.V1Directories["pids"]);
        Assert.Equal("/sys/fs/cgroup/memory/process_api/abc", layout.DirectoryFor("memory"));
    }

    [Fact]
    public void V1Only_UsesTheFreezer()
    {
        var layout = CgroupLayout.Parse(V1Mounts, "8:pids:/a\n6:freezer:/a\n4:memory:/a\n1:cpu,cpuacct:/a\n");
        Assert.Equal(CgroupMode.Legacy, layout.Mode);
        Assert.Null(layout.UnifiedDirectory);
        Assert.Equal("/sys/fs/cgroup/freezer/a", layout.V1Directories["freezer"]);
        Assert.Equal("/sys/fs/cgroup/cpu/a", layout.V1Directories["cpu"]);
    }

    [Fact]
    public void Container_SeesItsOwnCgroupAsTheMountsRoot()
    {
        var layout = CgroupLayout.Parse(
            "700 650 0:30 /docker/0123 /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n",
            "0::/docker/0123\n");
        Assert.Equal("/sys/fs/cgroup", layout.UnifiedDirectory);
    }

    [Fact]
    public void NoCgroupsMounted_None() =>
        Assert.Equal(CgroupMode.None, CgroupLayout.Parse("22 1 0:21 / /proc rw - proc proc rw\n", "0::/\n").Mode);

    [Fact]
    public void ThisMachine_HasAWritableTreeForRoot()
    {
        // The tests run as root on the hybrid machine the issue describes; a tree must open there.
        CgroupTree tree = CgroupTree.Open(CgroupLayout.Detect(), Path.Combine(Path.GetTempPath(), "tend-layout-" + Guid.NewGuid().ToString("N")));
        try
        {
            Assert.NotEqual(CgroupMode.None, tree.Mode);
            Assert.True(Directory.Exists(tree.MembershipDirectory), string.Join("; ", tree.Notes));
        }
        finally
        {
            tree.RemoveIfEmpty();
        }
        Assert.False(Directory.Exists(tree.MembershipDirectory));
    }
}

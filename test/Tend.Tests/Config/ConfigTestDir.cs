using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>
/// A throwaway directory holding a config file, env files and fake executables, with a
/// base environment whose PATH is only its own bin/ so lookups do not depend on the machine.
/// </summary>
internal sealed class ConfigTestDir : IDisposable
{
    public ConfigTestDir()
    {
        Root = Path.Combine(Path.GetTempPath(), "tend-config-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
        Bin = Path.Combine(Root, "bin");
        Directory.CreateDirectory(Bin);
        Executable("bin/node");
        Executable("bin/python3");
        BaseEnv = new Dictionary<string, string> { ["PATH"] = Bin, ["HOME"] = "/home/test" };
    }

    public string Root { get; }
    public string Bin { get; }
    public Dictionary<string, string> BaseEnv { get; }

    /// <summary>The config's path: tend.yaml in <see cref="Root"/>.</summary>
    public string ConfigPath => Path.Combine(Root, "tend.yaml");

    public string Write(string relative, string text)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public string Executable(string relative, bool executable = true)
    {
        string path = Write(relative, "#!/bin/sh\nexit 0\n");
        // Tend is Linux-only; the guard only tells the platform analyzer so.
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException();
        File.SetUnixFileMode(path, executable
            ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            : UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    public TendConfig Load(string yaml, string file = "tend.yaml") => ConfigLoader.Load(Write(file, yaml), BaseEnv);

    /// <summary>Loads expecting failure; returns the errors as strings with this directory written as ROOT.</summary>
    public List<string> Errors(string yaml, string file = "tend.yaml")
    {
        var e = Assert.Throws<ConfigException>(() => Load(yaml, file));
        return e.Errors.Select(x => x.ToString().Replace(Root, "ROOT")).ToList();
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}

using System.Runtime.CompilerServices;

namespace Tend.Tests.Support;

internal static class TestEnvironment
{
    /// <summary>
    /// Every daemon a test starts inherits this process's environment. Tests run in parallel, so
    /// each daemon's health listener takes a free port (port 0) instead of the fixed default; a
    /// test that needs the address reads it from `tend ping --json`.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => Environment.SetEnvironmentVariable("TEND_HEALTH", "127.0.0.1:0");
}

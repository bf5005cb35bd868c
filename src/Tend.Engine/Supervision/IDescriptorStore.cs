using System.Runtime.InteropServices;

namespace Tend.Supervision;

/// <summary>
/// Somewhere outside the daemon that keeps descriptors for it, so that they survive its crash: a
/// service manager's store (systemd's FDSTORE=1, docs/upgrade.md). The engine keeps every run's pipes,
/// each instance's notify socket and each app's listening sockets there under the names a new daemon
/// adopts them by (out.ID, err.ID, notify.ID, listen.APP.K), and forgets them when they close.
/// </summary>
public interface IDescriptorStore
{
    void Keep(string name, SafeHandle handle);

    void Forget(string name);
}

using Tend.Config;

namespace Tend.Supervision;

/// <summary>
/// An app's spec as it would be declared now, with the caller's environment: what `--update-env`
/// (restart, reload) and a deploy run next. A config app's file is read again; an app started from a
/// command keeps its command and settings and takes the new environment, as PM2's --update-env does.
/// </summary>
internal static class SpecRefresh
{
    /// <exception cref="RolloutRefusedException">The file no longer declares the app, or changed what only a new start can change.</exception>
    /// <exception cref="ConfigException">The file does not load.</exception>
    public static AppSpec Read(App app, IReadOnlyDictionary<string, string> env)
    {
        if (app.ConfigPath is null) return app.Spec with { Env = new EquatableDictionary(env) };
        TendConfig config = ConfigLoader.Load(app.ConfigPath, env, app.Cgroups);
        AppSpec spec = config.Apps.FirstOrDefault(a => a.Name == app.Name)
            ?? throw new RolloutRefusedException($"{app.ConfigPath} no longer declares {app.Name}");
        if (!spec.Listen.SequenceEqual(app.Spec.Listen) || spec.ListenMode != app.Spec.ListenMode)
            throw new RolloutRefusedException($"{app.Name}: listen/listen_mode changed in {app.ConfigPath}; a reload keeps the sockets open, so changing them needs `tend start` (which replaces the app)");
        return spec with { Instances = app.Spec.Instances };
    }
}

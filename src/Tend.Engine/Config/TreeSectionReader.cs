namespace Tend.Config;

// The supervision tree is checked after every app and supervisor has been read, because
// either may be declared first and children/depends_on refer across the two maps. The drafts
// keep the nodes each reference was written at, so every error points at its own line.
/// <summary>supervisors:, root: and depends_on: (the supervision tree and the start order), checked once every app is read.</summary>
internal static class TreeSectionReader
{
    internal static readonly string[] s_supervisorKeys =
        ["strategy", "max_restarts", "within", "children", "auto_shutdown", "restart", "significant"];
    internal static readonly string[] s_rootKeys = ["max_restarts", "within"];
    internal static readonly string[] s_strategies = ["one_for_one", "one_for_all", "rest_for_one"];
    internal static readonly string[] s_autoShutdowns = ["never", "any_significant", "all_significant"];
    internal static readonly string[] s_conditions = ["started", "ready", "completed"];

    /// <summary>Everything about the tree one file declares, with positions, for the cross checks.</summary>
    internal sealed class TreeDraft
    {
        /// <summary>Every name under apps:, even of apps with errors, so one bad app does not make its references "unknown".</summary>
        public Dictionary<string, YNode> AppNames { get; } = new(StringComparer.Ordinal);
        public List<AppTreeDraft> Apps { get; } = [];
        public List<SupervisorDraft> Supervisors { get; } = [];
        /// <summary>The root: key, when the file has one (it needs supervisors: to mean anything).</summary>
        public YNode? RootKey { get; set; }
        public int RootMaxRestarts { get; set; } = SupervisorSpec.RootMaxRestarts;
        public TimeSpan RootWithin { get; set; } = SupervisorSpec.RootWithin;
    }

    internal sealed class AppTreeDraft(string name)
    {
        public string Name { get; } = name;
        public YNode? SignificantKey { get; set; }
        public bool Significant { get; set; }
        public RestartPolicy Restart { get; set; }
        public List<(string Name, DependencyCondition Condition, YNode Node)> Dependencies { get; } = [];
        /// <summary>while_down: of the dependencies that set it.</summary>
        public Dictionary<string, WhileDown> WhileDown { get; } = new(StringComparer.Ordinal);
    }

    internal sealed class SupervisorDraft(string name, YNode nameNode)
    {
        public string Name { get; } = name;
        public YNode NameNode { get; } = nameNode;
        public List<(string Name, YNode Node)> Children { get; } = [];
        public YNode? SignificantKey { get; set; }
        /// <summary>Null when the supervisor itself has errors.</summary>
        public SupervisorSpec? Spec { get; set; }
        public AutoShutdown AutoShutdown { get; set; }
        public RestartPolicy Restart { get; set; }
        public bool Significant { get; set; }
    }

    internal static readonly string[] s_dependencyKeys = ["condition", "while_down"];

    internal static void ReadDependsOn(NodeReader reader, YNode value, string field, List<(string, DependencyCondition, YNode)> deps,
        Dictionary<string, WhileDown>? whileDown = null)
    {
        if (value is YSequence seq)
        {
            for (int i = 0; i < seq.Items.Count; i++)
            {
                if (reader.TryString(seq.Items[i], $"{field}[{i}]", out string name)) AddDependency(reader, deps, name, DependencyCondition.Started, seq.Items[i], field);
            }
            return;
        }
        if (!reader.TryMapping(value, field, "a mapping of app name to started, ready or completed, or a list of app names", out YMapping map)) return;
        foreach (var (keyNode, conditionNode) in map.Entries)
        {
            if (keyNode is not YScalar { IsNull: false } key)
            {
                reader.Error(keyNode, field, $"expected an app name, got {keyNode.Describe()}");
                continue;
            }
            string f = field + "." + key.Value;
            DependencyCondition condition = DependencyCondition.Started;
            if (conditionNode is YMapping detail)
            {
                // db: { condition: ready, while_down: hold }
                foreach (var (k, _, v) in reader.Entries(detail, f, s_dependencyKeys))
                {
                    string kf = f + "." + k;
                    if (k == "condition")
                    {
                        string? c = (v as YScalar)?.Value.ToLowerInvariant();
                        if (c is "started" or "ready" or "completed") condition = Enum.Parse<DependencyCondition>(c, ignoreCase: true);
                        else reader.Error(v, kf, $"expected started, ready or completed, got {v.Describe()}");
                    }
                    else
                    {
                        switch ((v as YScalar)?.Value)
                        {
                            case "hold": whileDown?.Add(key.Value, Config.WhileDown.Hold); break;
                            case "stop": whileDown?.Add(key.Value, Config.WhileDown.Stop); break;
                            case "ignore": break;
                            default: reader.Error(v, kf, $"expected hold, stop or ignore, got {v.Describe()}"); break;
                        }
                    }
                }
                AddDependency(reader, deps, key.Value, condition, keyNode, field);
                continue;
            }
            if (!NodeReader.IsNull(conditionNode))
            {
                string? text = (conditionNode as YScalar)?.Value.ToLowerInvariant();
                switch (text)
                {
                    case "started": condition = DependencyCondition.Started; break;
                    case "ready": condition = DependencyCondition.Ready; break;
                    case "completed": condition = DependencyCondition.Completed; break;
                    default:
                        reader.Error(conditionNode, f, $"expected started, ready or completed, got {conditionNode.Describe()}"
                            + (text is null ? "" : Suggest.DidYouMean(text, s_conditions)));
                        continue;
                }
            }
            AddDependency(reader, deps, key.Value, condition, keyNode, field);
        }
    }

    internal static void AddDependency(
        NodeReader reader, List<(string Name, DependencyCondition, YNode Node)> deps, string name, DependencyCondition condition, YNode node, string field)
    {
        int first = deps.FindIndex(d => d.Name == name);
        if (first >= 0)
        {
            reader.Error(node, field + "." + name, $"\"{name}\" is listed twice; first at line {deps[first].Node.Start.Line}");
            return;
        }
        deps.Add((name, condition, node));
    }

    internal static void ReadSupervisors(ConfigFileContext context, YNode value)
    {
        NodeReader reader = context.Reader;
        if (NodeReader.IsNull(value)) return;
        if (!reader.TryMapping(value, "supervisors", "a mapping of supervisor name to settings", out YMapping map)) return;
        var seen = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (keyNode, node) in map.Entries)
        {
            if (keyNode is not YScalar { IsNull: false } nameScalar)
            {
                reader.Error(keyNode, "supervisors", $"expected a supervisor name, got {keyNode.Describe()}");
                continue;
            }
            string name = nameScalar.Value;
            string field = "supervisors." + name;
            if (seen.TryGetValue(name, out YNode? first))
            {
                reader.Error(keyNode, field, $"duplicate supervisor \"{name}\"; first defined at line {first.Start.Line}");
                continue;
            }
            seen.Add(name, keyNode);
            if (ConfigLoader.ValidateName(name, "supervisor") is { } nameError)
            {
                reader.Error(keyNode, field, nameError);
                continue;
            }
            if (name == SupervisorSpec.RootName)
            {
                reader.Error(keyNode, field, "\"root\" is reserved for the implicit root supervisor that holds everything not placed elsewhere");
                continue;
            }
            ReadSupervisor(context, name, keyNode, node);
        }
    }

    /// <summary>root: { max_restarts, within }: the implicit root's intensity for its supervisors' restarts.</summary>
    internal static void ReadRoot(ConfigFileContext context, YNode keyNode, YNode value)
    {
        NodeReader reader = context.Reader;
        context.Tree.RootKey = keyNode;
        if (NodeReader.IsNull(value)) return;
        if (!reader.TryMapping(value, "root", "a mapping with max_restarts and within", out YMapping map)) return;
        foreach (var (key, _, v) in reader.Entries(map, "root", s_rootKeys))
        {
            string f = "root." + key;
            if (NodeReader.IsNull(v)) continue;
            switch (key)
            {
                case "max_restarts":
                    if (reader.TryInt(v, f, 0, int.MaxValue, out int maxRestarts)) context.Tree.RootMaxRestarts = maxRestarts;
                    break;
                case "within":
                    if (!reader.TryDuration(v, f, out TimeSpan within)) break;
                    if (within <= TimeSpan.Zero) reader.Error(v, f, "expected a duration greater than 0, like 1m");
                    else context.Tree.RootWithin = within;
                    break;
            }
        }
    }

    internal static void ReadSupervisor(ConfigFileContext context, string name, YNode nameNode, YNode node)
    {
        NodeReader reader = context.Reader;
        string field = "supervisors." + name;
        int errorsBefore = reader.Errors.Count;
        var draft = new SupervisorDraft(name, nameNode);
        context.Tree.Supervisors.Add(draft);
        if (NodeReader.IsNull(node))
        {
            reader.Error(nameNode, field, "no children; list the apps and supervisors it supervises under children:");
            return;
        }
        if (!reader.TryMapping(node, field, "a mapping of settings", out YMapping map)) return;

        var spec = new SupervisorSpec { Name = name, Children = EquatableArray<ChildRef>.Empty };
        bool sawChildren = false;
        foreach (var (key, keyNode, value) in reader.Entries(map, field, s_supervisorKeys))
        {
            string f = field + "." + key;
            if (NodeReader.IsNull(value) && key != "children") continue;
            switch (key)
            {
                case "strategy":
                    if (ReadChoice(reader, value, f, s_strategies) is int strategy) spec = spec with { Strategy = (SupervisorStrategy)strategy };
                    break;
                case "max_restarts":
                    if (reader.TryInt(value, f, 0, int.MaxValue, out int maxRestarts)) spec = spec with { MaxRestarts = maxRestarts };
                    break;
                case "within":
                    if (!reader.TryDuration(value, f, out TimeSpan within)) break;
                    if (within <= TimeSpan.Zero) reader.Error(value, f, "expected a duration greater than 0, like 5s");
                    else spec = spec with { Within = within };
                    break;
                case "auto_shutdown":
                    if (ReadChoice(reader, value, f, s_autoShutdowns) is int shutdown) spec = spec with { AutoShutdown = (AutoShutdown)shutdown };
                    break;
                case "restart":
                    if (AppFieldReader.ReadRestart(reader, value, f) is RestartPolicy policy) spec = spec with { Restart = policy };
                    break;
                case "significant":
                    draft.SignificantKey = keyNode;
                    if (reader.TryBool(value, f, out bool significant)) spec = spec with { Significant = significant };
                    break;
                case "children":
                    sawChildren = true;
                    if (value is not YSequence seq)
                    {
                        reader.Error(value, f, $"expected a list of app and supervisor names, got {value.Describe()}");
                        break;
                    }
                    if (seq.Items.Count == 0) reader.Error(value, f, "no children; list the apps and supervisors it supervises");
                    for (int i = 0; i < seq.Items.Count; i++)
                    {
                        if (reader.TryString(seq.Items[i], $"{f}[{i}]", out string child)) draft.Children.Add((child, seq.Items[i]));
                    }
                    break;
            }
        }
        if (!sawChildren) reader.Error(nameNode, field, "no children; list the apps and supervisors it supervises under children:");
        draft.AutoShutdown = spec.AutoShutdown;
        draft.Restart = spec.Restart;
        draft.Significant = spec.Significant;
        if (reader.Errors.Count == errorsBefore) draft.Spec = spec;
    }

    /// <summary>The index of <paramref name="value"/> in <paramref name="choices"/> ('-' and '_' alike, any case), or an error with a suggestion.</summary>
    internal static int? ReadChoice(NodeReader reader, YNode value, string field, string[] choices)
    {
        string expected = string.Join(", ", choices[..^1]) + " or " + choices[^1];
        if (value is YScalar { IsNull: false } s)
        {
            int index = Array.IndexOf(choices, s.Value.ToLowerInvariant().Replace('-', '_'));
            if (index >= 0) return index;
            reader.Error(value, field, $"expected {expected}, got {value.Describe()}{Suggest.DidYouMean(s.Value, choices)}");
            return null;
        }
        reader.Error(value, field, $"expected {expected}, got {value.Describe()}");
        return null;
    }

    internal static void ValidateTree(ConfigFileContext context)
    {
        NodeReader reader = context.Reader;
        TreeDraft tree = context.Tree;
        var supervisors = tree.Supervisors.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var known = tree.AppNames.Keys.Concat(supervisors.Keys).ToList();

        // The root counts only restarts of the supervisors under it: without any, its intensity would silently do nothing.
        if (tree.RootKey is { } rootKey && tree.Supervisors.Count == 0)
            reader.Error(rootKey, "root", "has no effect without a supervisors: section; the root's intensity counts only restarts of the supervisors under it (each app's own max_restarts governs the apps)");

        foreach (SupervisorDraft s in tree.Supervisors)
        {
            if (tree.AppNames.ContainsKey(s.Name))
            {
                reader.Error(s.NameNode, "supervisors." + s.Name,
                    $"\"{s.Name}\" is already an app (line {tree.AppNames[s.Name].Start.Line}); apps and supervisors share one set of names");
            }
        }

        // Parents: each child has exactly one. Unknown children, duplicates and second parents are errors.
        var parents = new Dictionary<string, (SupervisorDraft Parent, YNode Node)>(StringComparer.Ordinal);
        var resolved = new Dictionary<SupervisorDraft, List<ChildRef>>();
        bool structureOk = true;
        foreach (SupervisorDraft s in tree.Supervisors)
        {
            var children = new List<ChildRef>();
            resolved[s] = children;
            for (int i = 0; i < s.Children.Count; i++)
            {
                var (child, node) = s.Children[i];
                string f = $"supervisors.{s.Name}.children[{i}]";
                ChildKind kind;
                if (tree.AppNames.ContainsKey(child)) kind = ChildKind.App;
                else if (supervisors.ContainsKey(child)) kind = ChildKind.Supervisor;
                else
                {
                    reader.Error(node, f, $"unknown child \"{child}\": not an app or a supervisor{Suggest.DidYouMean(child, known)}");
                    structureOk = false;
                    continue;
                }
                if (parents.TryGetValue(child, out var first))
                {
                    reader.Error(node, f, first.Parent == s
                        ? $"\"{child}\" is listed twice; first at line {first.Node.Start.Line}"
                        : $"\"{child}\" is already a child of supervisor \"{first.Parent.Name}\" (line {first.Node.Start.Line}); a child has one supervisor");
                    structureOk = false;
                    continue;
                }
                parents.Add(child, (s, node));
                children.Add(new ChildRef(kind, child));
            }
        }

        // Nesting cycles: with one parent per child, a cycle is a supervisor that is its own ancestor.
        // Only supervisor children count (a supervisor named like an app is already an error).
        var supervisorParents = resolved.SelectMany(r => r.Value.Where(c => c.Kind == ChildKind.Supervisor).Select(c => (c.Name, parents[c.Name])))
            .ToDictionary(x => x.Name, x => x.Item2, StringComparer.Ordinal);
        var inCycle = new HashSet<string>(StringComparer.Ordinal);
        foreach (SupervisorDraft s in tree.Supervisors)
        {
            if (inCycle.Contains(s.Name)) continue;
            var chain = new List<string> { s.Name };
            string current = s.Name;
            while (supervisorParents.TryGetValue(current, out var p) && !chain.Contains(p.Parent.Name))
            {
                chain.Add(p.Parent.Name);
                current = p.Parent.Name;
            }
            if (!supervisorParents.TryGetValue(current, out var last) || last.Parent.Name != s.Name) continue;
            // chain runs upwards (child, parent, grandparent…); the message reads downwards, as children: does.
            chain.Reverse();
            inCycle.UnionWith(chain);
            structureOk = false;
            string below = chain[0];
            reader.Error(supervisorParents[below].Node, $"supervisors.{s.Name}.children",
                $"cycle: {s.Name} → {string.Join(" → ", chain)}; a supervisor cannot contain itself");
        }

        // Supervisors with a full spec get their resolved children.
        foreach (SupervisorDraft s in tree.Supervisors)
        {
            if (s.Spec is not null) s.Spec = s.Spec with { Children = new EquatableArray<ChildRef>(resolved[s]) };
        }

        // significant: OTP refuses it on permanent children, and it means nothing where nothing shuts down.
        foreach (AppTreeDraft app in tree.Apps)
        {
            if (app.Significant) CheckSignificant(reader, "apps." + app.Name, app.Name, app.SignificantKey!, app.Restart, parents);
        }
        foreach (SupervisorDraft s in tree.Supervisors)
        {
            if (s.Significant) CheckSignificant(reader, "supervisors." + s.Name, s.Name, s.SignificantKey!, s.Restart, parents);
        }

        ValidateDependencies(context, structureOk ? StartOrder(context, resolved) : null);
    }

    internal static void CheckSignificant(
        NodeReader reader, string field, string name, YNode key, RestartPolicy restart,
        Dictionary<string, (SupervisorDraft Parent, YNode Node)> parents)
    {
        string f = field + ".significant";
        if (restart == RestartPolicy.Always)
        {
            reader.Error(key, f, "a permanent child (restart: always) cannot be significant; use restart: on-failure or never");
            return;
        }
        if (!parents.TryGetValue(name, out var parent))
        {
            reader.Error(key, f, $"significant has no effect: {name} sits under the root, whose auto_shutdown is never; place it under a supervisor with auto_shutdown");
        }
        else if (parent.Parent.AutoShutdown == AutoShutdown.Never)
        {
            reader.Error(key, f, $"significant has no effect: supervisor \"{parent.Parent.Name}\" has auto_shutdown: never; set auto_shutdown: any_significant or all_significant on it");
        }
    }

    /// <summary>Every app, in the order the whole tree starts them: depth first, children in list order, the root first.</summary>
    internal static List<string> StartOrder(ConfigFileContext context, Dictionary<SupervisorDraft, List<ChildRef>> resolved)
    {
        TreeDraft tree = context.Tree;
        var placed = new HashSet<string>(resolved.Values.SelectMany(c => c).Select(c => c.Name), StringComparer.Ordinal);
        var byName = tree.Supervisors.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var order = new List<string>();
        void Visit(ChildRef child)
        {
            if (child.Kind == ChildKind.App) order.Add(child.Name);
            else foreach (ChildRef c in resolved[byName[child.Name]]) Visit(c);
        }
        foreach (string app in tree.AppNames.Keys.Where(a => !placed.Contains(a))) order.Add(app);
        foreach (SupervisorDraft s in tree.Supervisors.Where(s => !placed.Contains(s.Name))) Visit(new ChildRef(ChildKind.Supervisor, s.Name));
        return order;
    }

    internal static void ValidateDependencies(ConfigFileContext context, List<string>? startOrder)
    {
        NodeReader reader = context.Reader;
        TreeDraft tree = context.Tree;
        var apps = tree.Apps.ToDictionary(a => a.Name, StringComparer.Ordinal);
        var appNames = tree.AppNames.Keys.ToList();
        var supervisorNames = tree.Supervisors.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var bad = new HashSet<(string, string)>();

        foreach (AppTreeDraft app in tree.Apps)
        {
            foreach (var (dep, condition, node) in app.Dependencies)
            {
                string f = $"apps.{app.Name}.depends_on.{dep}";
                if (!tree.AppNames.ContainsKey(dep))
                {
                    reader.Error(node, f, supervisorNames.Contains(dep)
                        ? $"\"{dep}\" is a supervisor; depends_on names apps"
                        : $"unknown app \"{dep}\"{Suggest.DidYouMean(dep, appNames)}");
                    bad.Add((app.Name, dep));
                }
                else if (condition == DependencyCondition.Completed && apps.TryGetValue(dep, out var target) && target.Restart == RestartPolicy.Always)
                {
                    reader.Error(node, f, $"completed waits for {dep} to exit 0, but {dep} has restart: always and would be started again; give it restart: on-failure or never");
                }
            }
        }

        // Cycles, depth first in declaration order; each reported once, where it closes.
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 on the stack, 2 done
        var stack = new List<string>();
        void Visit(AppTreeDraft app)
        {
            state[app.Name] = 1;
            stack.Add(app.Name);
            foreach (var (dep, _, node) in app.Dependencies)
            {
                if (!apps.TryGetValue(dep, out var next)) continue;
                if (state.GetValueOrDefault(dep) == 1)
                {
                    var cycle = stack[stack.IndexOf(dep)..];
                    reader.Error(node, $"apps.{app.Name}.depends_on.{dep}", $"dependency cycle: {string.Join(" → ", cycle)} → {dep}");
                    for (int i = 0; i < cycle.Count; i++) bad.Add((cycle[i], i + 1 < cycle.Count ? cycle[i + 1] : dep));
                }
                else if (!state.ContainsKey(dep))
                {
                    Visit(next);
                }
            }
            stack.RemoveAt(stack.Count - 1);
            state[app.Name] = 2;
        }
        foreach (AppTreeDraft app in tree.Apps)
        {
            if (!state.ContainsKey(app.Name)) Visit(app);
        }

        // The tree starts one child after another, so waiting for an app that starts later waits forever.
        if (startOrder is null) return;
        var position = startOrder.Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
        foreach (AppTreeDraft app in tree.Apps)
        {
            foreach (var (dep, _, node) in app.Dependencies)
            {
                if (bad.Contains((app.Name, dep)) || !position.TryGetValue(dep, out int depAt) || !position.TryGetValue(app.Name, out int appAt)) continue;
                if (depAt > appAt)
                {
                    reader.Error(node, $"apps.{app.Name}.depends_on.{dep}",
                        $"{dep} starts after {app.Name} (start order: {string.Join(", ", startOrder)}), so {app.Name} would wait for it forever; place {dep} before {app.Name}");
                }
            }
        }
    }
}

using Corral.Node.Topology;

namespace Corral.WorkQueue.Config;

/// <summary>
/// Reads the original's <c>spec_context_map.json</c> (<c>{"groups": [{"name", "tasks": [{"spec", "viewports", "browsers"}]}]}</c>)
/// and expands it exactly as the original did: per task entry, viewport × browser, viewport-major in file order, invalid
/// combinations dropped, keys numbered within their group after filtering. Unlike the original, a malformed or empty list
/// or a repeated group name is an error (the original silently ran 0 tasks, or let keys collide).
/// </summary>
internal static class SpecList
{
    public const int MaxTasks = 100_000;

    /// <summary>Whether a document is the original's spec list: a mapping with <c>groups</c> and no <c>app</c>.</summary>
    public static bool IsSpecList(TopologyNode root) =>
        root is TopologyMapping mapping && !mapping.ContainsKey("app") && mapping.ContainsKey("groups");

    /// <summary>Expands the list's tasks; every problem is recorded (with its position) and null returned.</summary>
    /// <remarks>Only <c>groups</c> is read from <paramref name="reader"/>: the caller decides what other keys mean.</remarks>
    public static IReadOnlyList<TaskDefinition>? Read(MappingReader reader, IReadOnlyCollection<Combination> invalid,
        TopologyDiagnostics diagnostics, ICollection<string>? skipped = null)
    {
        var errors = diagnostics.Errors.Count;
        const string shape = "{\"groups\": [{\"name\": \"search\", \"tasks\": [{\"spec\": \"a.spec.ts\", \"viewports\": [\"desktop\"], \"browsers\": [\"chrome\"]}]}]}";
        var root = reader.Mapping;
        var groupsNode = reader.Node("groups");
        if (groupsNode is not TopologySequence groups)
        {
            diagnostics.Error(groupsNode ?? root, $"groups must be a list of groups, like {shape}");
            return null;
        }

        if (groups.Items.Count == 0)
        {
            diagnostics.Error(groups, "groups is empty: the spec list names no spec to run; add at least one group with a task");
            return null;
        }

        var tasks = new List<TaskDefinition>();
        var names = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        for (var g = 0; g < groups.Items.Count; g++)
        {
            var group = MappingReader.From(groups.Items[g], diagnostics, $"groups[{g}]");
            if (group is null) continue;
            // The original's own specs/spec_context_map.json spells the key groupName, which its loader ignored (every
            // group was named "" and the keys of different groups collided); Corral reads either spelling.
            var nameKey = group.Mapping.ContainsKey("name") || !group.Mapping.ContainsKey("groupName") ? "name" : "groupName";
            var name = group.RequiredString(nameKey, "a group name of letters, digits, '-', '_' or '.'");
            if (name.Length > 0 && !IsPlainName(name))
            {
                diagnostics.Error(group.Mapping[nameKey]!, $"{group.Name(nameKey)} '{name}' is not a valid group name: use letters, digits, '-', '_' or '.' (it becomes part of the task keys task:<group>:<i>)");
            }
            else if (name.Length > 0 && names.TryGetValue(name, out var first))
            {
                diagnostics.Error(group.Mapping[nameKey]!, $"{group.Name(nameKey)} '{name}' is already the name of the group at {first}: group names must be unique (they key the tasks)");
            }
            else if (name.Length > 0)
            {
                names[name] = group.Mapping[nameKey]!.Position;
            }

            var groupCommand = GroupCommand(group);
            var entries = group.OptionalSequence("tasks");
            if (entries is null || entries.Items.Count == 0)
            {
                diagnostics.Error(group.Mapping["tasks"] ?? group.Mapping, $"{group.Name("tasks")} must be a non-empty list of {{spec, viewports, browsers}}");
                group.WarnUnknownKeys();
                continue;
            }

            group.WarnUnknownKeys();
            var index = 0;
            for (var t = 0; t < entries.Items.Count; t++)
            {
                var entry = MappingReader.From(entries.Items[t], diagnostics, $"{group.Name("tasks")}[{t}]");
                if (entry is null) continue;
                var spec = entry.RequiredString("spec", "the spec file's path, relative to the spec root");
                if (spec.Length > 0 && !IsSafePath(spec))
                {
                    diagnostics.Error(entry.Mapping["spec"]!, $"{entry.Name("spec")} '{spec}' must be a relative path inside the spec root (no '..', no leading '/')");
                }

                var viewports = Words(entry, "viewports", "desktop, mobile");
                var browsers = Words(entry, "browsers", "chrome, firefox, webkit");
                entry.WarnUnknownKeys();
                foreach (var viewport in viewports)
                {
                    foreach (var browser in browsers)
                    {
                        if (invalid.Contains(new Combination(viewport, browser)))
                        {
                            skipped?.Add($"Skipping {spec} : {browser} : {viewport} , as an invalid task matrix combination");
                            continue;
                        }

                        tasks.Add(new TaskDefinition
                        {
                            Key = $"task:{name}:{index}",
                            Group = name,
                            Index = index++,
                            Ordinal = tasks.Count,
                            Spec = spec,
                            Viewport = viewport,
                            Browser = browser,
                            Command = groupCommand,
                        });
                    }
                }
            }
        }

        if (diagnostics.Errors.Count > errors) return null;
        if (tasks.Count == 0)
        {
            diagnostics.Error(root, "the spec list expands to no task: every viewport/browser combination is invalid; change the list or 'invalid:'");
            return null;
        }

        if (tasks.Count > MaxTasks)
        {
            diagnostics.Error(root, $"the spec list expands to {tasks.Count} tasks; at most {MaxTasks} are allowed");
            return null;
        }

        return tasks;
    }

    /// <summary>
    /// A group's own <c>command</c> (the original ran Playwright for every group; a list may mix runners), or null for
    /// the topology's. The same rules as the topology's: an argument list with placeholders, never a shell.
    /// </summary>
    private static IReadOnlyList<string>? GroupCommand(MappingReader group)
    {
        if (group.Node("command") is not { } node || node is TopologyScalar { IsNull: true }) return null;
        if (node is not TopologySequence { Items.Count: > 0 } list)
        {
            group.Diagnostics.Error(node, $"{group.Name("command")} must be a non-empty list of arguments (run without a shell), such as [\"npx\", \"playwright\", \"test\", \"{{spec}}\"]");
            return null;
        }

        var parts = new List<string>();
        foreach (var item in list.Items)
        {
            if (item is TopologyScalar { IsNull: false } scalar && scalar.Value.Length > 0)
            {
                if (CommandTemplate.Check(scalar.Value) is { } problem) group.Diagnostics.Error(item, $"{group.Name("command")}: {problem}");
                parts.Add(scalar.Value);
            }
            else
            {
                group.Diagnostics.Error(item, $"{group.Name("command")}: each argument must be a non-empty text value");
            }
        }

        if (parts.Count > 0 && parts[0].Contains('{')) group.Diagnostics.Error(list, $"{group.Name("command")}: the program '{parts[0]}' may not hold placeholders");
        return parts.Count == list.Items.Count ? parts : null;
    }

    private static List<string> Words(MappingReader entry, string key, string examples)
    {
        var words = new List<string>();
        var list = entry.OptionalSequence(key);
        if (list is null || list.Items.Count == 0)
        {
            entry.Diagnostics.Error(entry.Mapping[key] ?? entry.Mapping, $"{entry.Name(key)} must be a non-empty list such as [{examples}]");
            return words;
        }

        foreach (var item in list.Items)
        {
            if (item is TopologyScalar { IsNull: false } scalar && IsPlainName(scalar.Value))
            {
                if (!words.Contains(scalar.Value)) words.Add(scalar.Value);
            }
            else
            {
                entry.Diagnostics.Error(item, $"each of {entry.Name(key)} must be a name of letters, digits, '-' or '_' such as {examples}, got {Show(item)}");
            }
        }

        return words;
    }

    private static string Show(TopologyNode node) => node switch
    {
        TopologyScalar { IsNull: true } => "nothing",
        TopologyScalar s => $"'{s.Value}'",
        _ => node.Kind,
    };

    public static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && name is not ("." or "..");

    private static bool IsSafePath(string path) =>
        !Path.IsPathRooted(path) && !path.Split('/', '\\').Contains("..") && !path.Contains('\0');
}

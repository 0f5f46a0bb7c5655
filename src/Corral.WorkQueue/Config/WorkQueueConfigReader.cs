using Corral.Node.Planning;
using Corral.Node.Storage;
using Corral.Node.Processes;
using Corral.Node.Topology;

namespace Corral.WorkQueue.Config;

/// <summary>
/// Reads a work queue topology: Corral's own YAML (<c>app: workqueue</c>, <c>specs:</c> naming the original's spec list;
/// unknown keys rejected) or the original's <c>spec_context_map.json</c> itself, run with the defaults (its own keys
/// other than <c>groups</c> are ignored with a warning; Corral's keys may be added with <c>--set</c>).
/// </summary>
internal static class WorkQueueConfigReader
{
    private static readonly string[] SettingKeys =
        ["spec-root", "command", "workers", "concurrency", "timeout", "retries", "lease", "invalid", "reporter-port", "store", "durability", "seed", RestartCaps.Key,
            Prepare.PrepareStep.Key, MissingBrowsers.Key];

    public static bool IsOriginal(TopologyNode root) => SpecList.IsSpecList(root);

    /// <summary>The config and the reader of the top level (for <c>restarts:</c>), or a null config when anything is wrong.</summary>
    /// <param name="searchPath">The PATH the command's program is looked up on; null reads the environment's (tests pass their own).</param>
    /// <param name="environment">The environment variables read (browser locations); null reads the process's.</param>
    public static (WorkQueueConfig? Config, MappingReader? Reader, IReadOnlyList<string> Skipped) Read(TopologyDocument document, TopologyDiagnostics diagnostics,
        string? searchPath = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var skipped = new List<string>();
        var reader = MappingReader.From(document.Root, diagnostics, "");
        if (reader is null) return (null, null, skipped);
        var errors = diagnostics.Errors.Count;
        var topologyFolder = Path.GetDirectoryName(Path.GetFullPath(document.Path)) ?? Directory.GetCurrentDirectory();
        string specListPath;
        TopologyMapping specListRoot;
        var original = IsOriginal(document.Root);
        var groupTasksFile = OriginalEnvironment.Read(environment, OriginalEnvironment.GroupTasksFile);
        if (original && groupTasksFile is null)
        {
            specListPath = Path.GetFullPath(document.Path);
            specListRoot = reader.Mapping;
        }
        else
        {
            reader.Node("app");
            var specs = original ? "" : reader.RequiredString("specs", "the path of the spec list (the original's spec_context_map.json), relative to this file");
            if (specs.Length == 0 && groupTasksFile is null) return (null, reader, skipped);
            // The original's controller read its spec list from GROUP_TASKS_FILE: set, it wins (relative to where corral runs).
            specListPath = groupTasksFile is not null ? Path.GetFullPath(groupTasksFile) : Path.GetFullPath(Path.Combine(topologyFolder, specs));
            if (groupTasksFile is not null)
            {
                diagnostics.Warn(reader.Mapping, $"{OriginalEnvironment.GroupTasksFile} is set: the spec list is {specListPath}" + (specs.Length > 0 ? $" (not specs: {specs})" : ""));
            }

            if (LoadSpecList(specListPath, reader.Mapping["specs"] ?? reader.Mapping, diagnostics) is not { } loaded) return (null, reader, skipped);
            specListRoot = loaded;
        }

        var settings = OriginalEnvironment.Apply(ReadSettings(reader, Path.GetDirectoryName(specListPath)!, topologyFolder, searchPath), reader, environment);
        IReadOnlyList<TaskDefinition>? tasks;
        if (original)
        {
            tasks = SpecList.Read(new MappingReader(specListRoot, diagnostics, ""), settings.Invalid, diagnostics, skipped);
            foreach (var (key, _) in reader.Mapping.Entries)
            {
                if (key.Value != "groups" && !SettingKeys.Contains(key.Value))
                {
                    diagnostics.Warn(key, $"key '{key.Value}' has no meaning in Corral and is ignored");
                }
            }
        }
        else
        {
            var listReader = new MappingReader(specListRoot, diagnostics, "");
            tasks = SpecList.Read(listReader, settings.Invalid, diagnostics, skipped);
            listReader.WarnUnknownKeys();
            reader.Node(RestartCaps.Key);
            reader.Node(MissingBrowsers.Key);
            reader.RejectUnknownKeys();
        }

        if (tasks is null || diagnostics.Errors.Count > errors) return (null, reader, skipped);
        foreach (var command in tasks.Select(t => t.Command).OfType<IReadOnlyList<string>>().DistinctBy(c => string.Join('\0', c)))
        {
            if (Executables.Resolve(command[0], searchPath, settings.SpecRoot) is null)
            {
                diagnostics.Error(specListRoot, $"a group's command names the program '{command[0]}', which is not on the PATH (or, with a '/', an executable file relative to the spec root {settings.SpecRoot}): install it, or change the group's command");
            }
        }

        if (diagnostics.Errors.Count > errors) return (null, reader, skipped);
        var (run, notRun, missing) = MissingBrowsers.Split(tasks, settings, reader, environment);
        if (diagnostics.Errors.Count > errors) return (null, reader, skipped);
        return (settings with { SpecList = specListPath, Tasks = run, Skipped = notRun, MissingBrowsers = missing }, reader, skipped);
    }

    private static TopologyMapping? LoadSpecList(string path, TopologyNode at, TopologyDiagnostics diagnostics)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(at, $"specs: cannot read the spec list '{path}': {e.Message}");
            return null;
        }

        try
        {
            var root = TopologyParser.Parse(text, path);
            if (root is TopologyMapping mapping) return mapping;
            diagnostics.Error(root, $"the spec list must be a JSON object with \"groups\", not {root.Kind}");
        }
        catch (TopologyException e)
        {
            foreach (var error in e.Errors) diagnostics.Error(error.Position, error.Message);
        }

        return null;
    }

    private static WorkQueueConfig ReadSettings(MappingReader reader, string specListFolder, string topologyFolder, string? searchPath)
    {
        var d = reader.Diagnostics;
        var specRoot = reader.OptionalString("spec-root") is { } root
            ? Path.GetFullPath(Path.Combine(topologyFolder, root))
            : specListFolder;
        if (!Directory.Exists(specRoot))
        {
            d.Error(reader.Mapping["spec-root"] ?? reader.Mapping, $"spec-root '{specRoot}' is not a folder: the spec commands run there (default: the spec list's folder)");
        }

        var command = ReadCommand(reader, specRoot, searchPath);
        var prepare = Prepare.PrepareStep.Read(reader, specRoot, searchPath);
        var workers = reader.OptionalInt("workers", 1, 256) ?? 2;
        var concurrency = reader.OptionalInt("concurrency", 1, 64) ?? 1;
        var timeout = reader.OptionalDuration("timeout", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromMinutes(10);
        var retries = reader.OptionalInt("retries", 0, 100) ?? 2;
        var lease = reader.OptionalDuration("lease", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromSeconds(30);
        var reporterPort = reader.OptionalInt("reporter-port", 1, 32767) ?? WorkQueueConfig.DefaultReporterPort;
        var store = ReadStore(reader);
        var durability = reader.OptionalDurability("durability", [Durability.Sync, Durability.Fsync]) ?? Durability.Sync;
        reader.OptionalLong("seed");
        return new WorkQueueConfig
        {
            SpecList = "",
            SpecRoot = specRoot,
            Command = command,
            Prepare = prepare,
            Workers = workers,
            Concurrency = concurrency,
            Timeout = timeout,
            Retries = retries,
            Lease = lease,
            Invalid = ReadInvalid(reader),
            ReporterPort = reporterPort,
            Store = store,
            Durability = durability,
            Tasks = [],
        };
    }

    private static IReadOnlyList<string> ReadCommand(MappingReader reader, string specRoot, string? searchPath)
    {
        var d = reader.Diagnostics;
        var node = reader.Mapping["command"];
        var command = WorkQueueConfig.PlaywrightCommand;
        if (reader.OptionalSequence("command") is { } list)
        {
            var parts = new List<string>();
            foreach (var item in list.Items)
            {
                if (item is TopologyScalar { IsNull: false } scalar)
                {
                    if (CommandTemplate.Check(scalar.Value) is { } problem) d.Error(item, $"command: {problem}");
                    parts.Add(scalar.Value);
                }
                else
                {
                    d.Error(item, "command: each argument must be a text value (the command is an argument list, run without a shell)");
                }
            }

            if (parts.Count == 0 || parts[0].Trim().Length == 0)
            {
                d.Error(list, "command must name a program: a list such as [npx, playwright, test, \"--project={project}\", \"{spec}\"]");
                return command;
            }

            command = parts;
        }
        else if (node is TopologyScalar { IsNull: false } text)
        {
            d.Error(text, $"command must be a list of arguments (it is never run through a shell), such as [{string.Join(", ", WorkQueueConfig.PlaywrightCommand.Select(a => a.Contains('{') ? $"\"{a}\"" : a))}], got '{text.Value}'");
            return command;
        }

        if (command[0].Contains('{'))
        {
            d.Error(node ?? reader.Mapping, $"command: the program '{command[0]}' may not hold placeholders");
        }
        else if (Executables.Resolve(command[0], searchPath, specRoot) is null)
        {
            var hint = command[0] is "npx" or "node" or "npm"
                ? "install Node.js and npm (apt-get install npm) and the specs' packages (npm ci in the spec root), or"
                : "install it, or";
            d.Error(node ?? reader.Mapping,
                $"command: the program '{command[0]}' is not {(command[0].Contains('/') ? $"an executable file (relative to the spec root {specRoot})" : "on the PATH")}: {hint} set command: to a runner that exists (see examples/workqueue.yaml)");
        }

        return command;
    }

    private static IReadOnlyList<Combination> ReadInvalid(MappingReader reader)
    {
        var list = reader.OptionalSequence("invalid");
        if (list is null) return WorkQueueConfig.DefaultInvalid;
        var combinations = new List<Combination>();
        for (var i = 0; i < list.Items.Count; i++)
        {
            var item = MappingReader.From(list.Items[i], reader.Diagnostics, $"invalid[{i}]");
            if (item is null) continue;
            var viewport = item.RequiredString("viewport", "a viewport name such as mobile");
            var browser = item.RequiredString("browser", "a browser name such as firefox");
            item.RejectUnknownKeys();
            combinations.Add(new Combination(viewport, browser));
        }

        return combinations;
    }

    private static string ReadStore(MappingReader reader)
    {
        var text = reader.OptionalString("store") ?? "sqlite";
        if (text is "sqlite" or "redis") return text;
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme == "redis" && url.Host.Length > 0 && url.Port is > 0 and < 65536
            && url.AbsolutePath is "" or "/")
        {
            return $"redis://{url.Host}:{url.Port}";
        }

        reader.Diagnostics.Error(reader.Mapping["store"]!, $"store must be sqlite, redis (the run starts redis-server) or redis://host:port (a running server), got '{text}'");
        return "sqlite";
    }
}

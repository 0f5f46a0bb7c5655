using Corral.Node.Apps;
using Corral.Node.Topology;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Prepare;

namespace Corral.WorkQueue.Tests.Config;

/// <summary>What a Playwright suite adds to the topology: missing browsers, prepare:, the original's variables, group commands.</summary>
public sealed class PlaywrightSettingsTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);

    private const string Specs = """
        {"groups": [{"name": "alpha", "tasks": [{"spec": "a.spec.ts", "viewports": ["desktop", "mobile"], "browsers": ["chrome", "firefox"]}]}]}
        """;

    // sh runs it, and the second argument names Playwright's runner: the browsers are checked, whatever is installed here.
    private const string Playwright = "app: workqueue\nspecs: specs.json\ncommand: [sh, node_modules/.bin/playwright, test, \"--project={project}\", \"{spec}\"]\n";

    public PlaywrightSettingsTests()
    {
        _environment["PLAYWRIGHT_BROWSERS_PATH"] = Directory.CreateDirectory(_folder.Combine("browsers")).FullName;
        _environment["CHROMIUM_PATH"] = "/bin/sh"; // an executable: chrome is there
    }

    private (WorkQueueConfig? Config, TopologyDiagnostics Diagnostics) Read(string yaml, string specs = Specs)
    {
        _folder.Write("specs.json", specs);
        var diagnostics = new TopologyDiagnostics();
        var (config, _, _) = WorkQueueConfigReader.Read(TopologyLoader.Load(_folder.Write("wq.yaml", yaml)), diagnostics,
            environment: name => _environment.GetValueOrDefault(name));
        return (config, diagnostics);
    }

    [Fact]
    public void The_tasks_of_a_missing_browser_are_skipped_with_the_reason_and_the_remedy_and_the_rest_run()
    {
        var (config, diagnostics) = Read(Playwright);

        Assert.Equal(["desktop-chrome", "mobile-chrome"], config!.Tasks.Select(t => $"{t.Viewport}-{t.Browser}"));
        var skipped = Assert.Single(config.Skipped);
        Assert.Equal("task:alpha:1", skipped.Task.Key);
        Assert.Contains("npx playwright install --with-deps firefox", skipped.Reason);
        Assert.Contains(diagnostics.Warnings, w => w.Message.StartsWith("firefox is missing", StringComparison.Ordinal) && w.Message.Contains("1 task will be reported skipped"));
        Assert.Equal("firefox", Assert.Single(config.MissingBrowsers).Browser);
    }

    [Fact]
    public void A_browser_in_playwrights_folder_is_found()
    {
        Directory.CreateDirectory(Path.Combine(_environment["PLAYWRIGHT_BROWSERS_PATH"], "firefox-1572"));

        var (config, diagnostics) = Read(Playwright);

        Assert.Equal(3, config!.Tasks.Count);
        Assert.Empty(config.Skipped);
        Assert.Empty(diagnostics.Warnings);
    }

    [Fact]
    public void Missing_browsers_error_refuses_to_start_and_says_how_to_install_them()
    {
        _environment["CHROMIUM_PATH"] = _folder.Combine("no-such-chromium");

        var (config, diagnostics) = Read(Playwright + "missing-browsers: error\n");

        Assert.Null(config);
        Assert.Contains(diagnostics.Errors, e => e.Message.Contains("CHROMIUM_PATH is") && e.Message.Contains("set missing-browsers: skip"));
        Assert.Contains(diagnostics.Errors, e => e.Message.StartsWith("firefox is missing", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_whose_every_browser_is_missing_is_an_error_not_an_empty_pass()
    {
        var (config, diagnostics) = Read(Playwright, """{"groups": [{"name": "f", "tasks": [{"spec": "a.spec.ts", "viewports": ["desktop"], "browsers": ["firefox", "webkit"]}]}]}""");

        Assert.Null(config);
        Assert.Contains(diagnostics.Errors, e => e.Message.StartsWith("every task needs a browser that is missing (firefox, webkit)", StringComparison.Ordinal));
    }

    [Fact]
    public void Another_runner_is_never_checked_for_browsers()
    {
        var (config, diagnostics) = Read("app: workqueue\nspecs: specs.json\ncommand: [sh, run.sh, \"{spec}\"]\n");

        Assert.Equal(3, config!.Tasks.Count);
        Assert.Empty(diagnostics.Warnings);
    }

    [Fact]
    public void The_originals_variables_override_the_topology_and_each_says_so()
    {
        _folder.Write("other.json", """{"groups": [{"name": "other", "tasks": [{"spec": "b.spec", "viewports": ["desktop"], "browsers": ["chrome"]}]}]}""");
        _environment["GROUP_TASKS_FILE"] = _folder.Combine("other.json");
        _environment["SPEC_ROOT"] = Directory.CreateDirectory(_folder.Combine("root")).FullName;
        _environment["REDIS_HOST"] = "127.0.0.1";
        _environment["REDIS_PORT"] = "6390";

        var (config, diagnostics) = Read("app: workqueue\nspecs: specs.json\ncommand: [sh, run.sh]\n");

        Assert.Equal(["task:other:0"], config!.Tasks.Select(t => t.Key));
        Assert.Equal(_folder.Combine("root"), config.SpecRoot);
        Assert.Equal("redis://127.0.0.1:6390", config.Store);
        Assert.Equal(3, diagnostics.Warnings.Count(w => w.Message.Contains(" set", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_bad_redis_port_in_the_environment_is_an_error_naming_it()
    {
        _environment["REDIS_PORT"] = "sixty";

        var (config, diagnostics) = Read("app: workqueue\nspecs: specs.json\ncommand: [sh, run.sh]\n");

        Assert.Null(config);
        Assert.Contains(diagnostics.Errors, e => e.Message.StartsWith("REDIS_PORT is set to 'sixty'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_group_may_name_its_own_command_and_the_others_keep_the_topologys()
    {
        var (config, _) = Read("app: workqueue\nspecs: specs.json\ncommand: [sh, run.sh, \"{spec}\"]\n", """
            {"groups": [
              {"name": "unit", "command": ["sh", "-c", "echo {spec} {project}"], "tasks": [{"spec": "u.spec", "viewports": ["desktop"], "browsers": ["chrome"]}]},
              {"name": "e2e", "tasks": [{"spec": "e.spec", "viewports": ["desktop"], "browsers": ["chrome"]}]}]}
            """);

        Assert.Equal(["sh", "-c", "echo {spec} {project}"], config!.CommandFor(config.Tasks[0]));
        Assert.Equal(["sh", "run.sh", "{spec}"], config.CommandFor(config.Tasks[1]));
        // A claimed task comes back from the store without its command: the config still knows it by key.
        Assert.Equal(["sh", "-c", "echo {spec} {project}"], config.CommandFor(config.Tasks[0] with { Command = null }));
    }

    [Theory]
    [InlineData("\"command\": [\"sh\", \"{nope}\"]", "'{nope}' in '{nope}' is not a placeholder")]
    [InlineData("\"command\": [\"no-such-runner-here\"]", "names the program 'no-such-runner-here', which is not on the PATH")]
    [InlineData("\"command\": \"sh run.sh\"", "must be a non-empty list of arguments")]
    public void A_bad_group_command_is_an_error(string command, string expected)
    {
        var (config, diagnostics) = Read("app: workqueue\nspecs: specs.json\ncommand: [sh, run.sh]\n",
            $$"""{"groups": [{"name": "g", {{command}}, "tasks": [{"spec": "u.spec", "viewports": ["desktop"], "browsers": ["chrome"]}]}]}""");

        Assert.Null(config);
        Assert.Contains(diagnostics.Errors, e => e.Message.Contains(expected));
    }

    [Fact]
    public void Prepare_whose_program_is_missing_fails_at_load_with_the_remedy()
    {
        var (config, diagnostics) = Read("app: workqueue\nspecs: specs.json\ncommand: [sh, run.sh]\nprepare: [npm-not-here, ci]\n");

        Assert.Null(config);
        Assert.Contains(diagnostics.Errors, e => e.Message.StartsWith("prepare: the program 'npm-not-here' is not on the PATH", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prepare_runs_once_per_lock_file_and_again_when_the_lock_file_changes()
    {
        var root = Directory.CreateDirectory(_folder.Combine("suite")).FullName;
        File.WriteAllText(Path.Combine(root, "package-lock.json"), "{\"lockfileVersion\": 3}");
        string[] command = ["sh", "-c", "mkdir -p node_modules && echo ran >> runs.txt"];
        var said = new List<string>();

        await PrepareStep.RunAsync(root, command, said.Add, CancellationToken.None);
        await PrepareStep.RunAsync(root, command, said.Add, CancellationToken.None);
        File.WriteAllText(Path.Combine(root, "package-lock.json"), "{\"lockfileVersion\": 3, \"changed\": true}");
        await PrepareStep.RunAsync(root, command, said.Add, CancellationToken.None);

        Assert.Equal(2, File.ReadAllLines(Path.Combine(root, "runs.txt")).Length);
        Assert.Contains(said, l => l.EndsWith("skipped, node_modules matches the lock file", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failed_prepare_stops_the_run_with_its_output_and_what_to_do()
    {
        var root = Directory.CreateDirectory(_folder.Combine("suite")).FullName;

        var error = await Assert.ThrowsAsync<AppPrepareException>(() =>
            PrepareStep.RunAsync(root, ["sh", "-c", "echo 'npm ERR! network unreachable'; exit 3"], _ => { }, CancellationToken.None));

        Assert.Contains("failed (exit 3)", error.Message);
        Assert.Contains("npm ERR! network unreachable", error.Message);
        Assert.Contains("Run it there by hand", error.Message);
        Assert.False(File.Exists(PrepareStep.StampPath(root)));
    }

    public void Dispose() => _folder.Dispose();
}

using Corral.Node.Apps;
using Corral.Node.Storage;
using Corral.Node.Topology;
using Corral.WorkQueue.Config;

namespace Corral.WorkQueue.Tests.Config;

/// <summary>workqueue.yaml and the original's spec list read into one config; every mistake is reported before anything runs.</summary>
public sealed class ConfigReaderTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private static readonly AppCatalog Catalog = new([new WorkQueueModule()]);

    private const string Specs = """
        {"groups": [{"name": "alpha", "tasks": [{"spec": "a.spec", "viewports": ["desktop", "mobile"], "browsers": ["chrome", "firefox"]}]}]}
        """;

    private WorkQueueConfig Load(string yaml, params string[] overrides)
    {
        _folder.Write("specs.json", Specs);
        var (app, _) = Catalog.Load(TopologyLoader.Load(_folder.Write("wq.yaml", yaml), overrides));
        return WorkQueueConfig.FromJson(app.Config);
    }

    private TopologyException Fails(string yaml, params string[] overrides) => Assert.Throws<TopologyException>(() => Load(yaml, overrides));

    [Fact]
    public void Every_setting_is_read_and_paths_are_relative_to_the_file()
    {
        var config = Load("""
            app: workqueue
            specs: specs.json
            command: [sh, -c, "echo {project} {key} {attempt}"]
            workers: 4
            timeout: 3s
            retries: 1
            lease: 2s
            invalid: [{viewport: desktop, browser: firefox}]
            reporter-port: 3001
            store: redis://127.0.0.1:6390
            """);

        Assert.Equal(Path.Combine(_folder.Path, "specs.json"), config.SpecList);
        Assert.Equal(_folder.Path, config.SpecRoot);
        Assert.Equal(["sh", "-c", "echo {project} {key} {attempt}"], config.Command);
        Assert.Equal((4, TimeSpan.FromSeconds(3), 1, TimeSpan.FromSeconds(2), 3001, "redis://127.0.0.1:6390"),
            (config.Workers, config.Timeout, config.Retries, config.Lease, config.ReporterPort, config.Store));
        Assert.Equal(["desktop/chrome", "mobile/chrome", "mobile/firefox"], config.Tasks.Select(t => $"{t.Viewport}/{t.Browser}"));
    }

    [Fact]
    public void The_defaults_are_the_originals_mobile_firefox_filter_port_3000_and_sqlite()
    {
        var config = Load("app: workqueue\nspecs: specs.json\ncommand: [true]\n");

        Assert.Equal([new Combination("mobile", "firefox")], config.Invalid);
        Assert.Equal((3000, "sqlite", 2, TimeSpan.FromSeconds(30)), (config.ReporterPort, config.Store, config.Retries, config.Lease));
        Assert.Equal(3, config.Tasks.Count);
    }

    [Fact]
    public void A_command_whose_program_is_not_on_the_PATH_fails_at_load_with_an_install_hint()
    {
        var error = Fails("app: workqueue\nspecs: specs.json\ncommand: [npx-that-does-not-exist, playwright]\n");

        Assert.Contains("the program 'npx-that-does-not-exist' is not on the PATH", error.Message);
    }

    [Fact]
    public void The_default_playwright_command_without_npx_on_the_PATH_says_how_to_install_it()
    {
        // A PATH of one empty folder, whatever the machine has installed, so the test always runs.
        _folder.Write("specs.json", Specs);
        var document = TopologyLoader.Load(_folder.Write("wq.yaml", "app: workqueue\nspecs: specs.json\n"));
        var diagnostics = new TopologyDiagnostics();
        WorkQueueConfigReader.Read(document, diagnostics, searchPath: Directory.CreateDirectory(_folder.Combine("empty-bin")).FullName);

        Assert.Contains(diagnostics.Errors, e => e.Message.Contains("'npx' is not on the PATH: install Node.js and npm (apt-get install npm)"));
    }

    [Theory]
    [InlineData("command: \"npx playwright test\"", "command must be a list of arguments")]
    [InlineData("command: [\"{spec}\"]", "may not hold placeholders")]
    [InlineData("command: [true, \"{nope}\"]", "'{nope}' in '{nope}' is not a placeholder")]
    [InlineData("command: [true]\nworkers: 0", "workers must be a whole number from 1 to 256")]
    [InlineData("command: [true]\nstore: mysql", "store must be sqlite, redis")]
    [InlineData("command: [true]\nlease: 5", "lease must be")]
    [InlineData("command: [true]\nconcurrency: 0", "concurrency must be a whole number from 1 to 64")]
    [InlineData("command: [true]\nconcurrency: 65", "concurrency must be a whole number from 1 to 64")]
    [InlineData("command: [true]\ndurability: full", "durability must be one of sync, fsync, got")]
    [InlineData("command: [true]\ncolour: red", "unknown key 'colour'")]
    [InlineData("command: [true]\nspec-root: nowhere", "is not a folder")]
    public void Bad_settings_are_errors_naming_what_would_be_valid(string settings, string expected)
    {
        var error = Fails($"app: workqueue\nspecs: specs.json\n{settings}\n");

        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("", Durability.Sync)]
    [InlineData("durability: sync\n", Durability.Sync)]
    [InlineData("durability: fsync\n", Durability.Fsync)]
    public void Durability_is_sync_by_default_and_fsync_when_asked(string setting, Durability expected)
    {
        var config = Load($"app: workqueue\nspecs: specs.json\ncommand: [true]\n{setting}");

        Assert.Equal(expected, config.Durability);
        Assert.Equal(expected, WorkQueueConfig.FromJson(config.ToJson()).Durability);
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("concurrency: 16\n", 16)]
    public void Concurrency_is_1_by_default_and_read_when_set(string setting, int expected)
    {
        var config = Load($"app: workqueue\nspecs: specs.json\ncommand: [true]\nworkers: 4\n{setting}");

        Assert.Equal((expected, 4 * expected), (config.Concurrency, config.Slots));
        Assert.Equal(expected, WorkQueueConfig.FromJson(config.ToJson()).Concurrency);
    }

    [Fact]
    public void A_missing_spec_list_is_an_error_naming_the_file()
    {
        var error = Fails("app: workqueue\nspecs: missing.json\ncommand: [true]\n");

        Assert.Contains("cannot read the spec list", error.Message);
        Assert.Contains("missing.json", error.Message);
    }

    [Fact]
    public void The_originals_spec_list_runs_unchanged_with_the_defaults_and_takes_set_overrides()
    {
        var fixture = Repo.File("examples", "originals", "workqueue-004-spec_context_map.json");
        var (app, _) = Catalog.Load(TopologyLoader.Load(fixture, ["command=[true]", "workers=3"]));
        var config = WorkQueueConfig.FromJson(app.Config);

        Assert.Equal(8, config.Tasks.Count);
        Assert.Equal(Path.GetDirectoryName(fixture), config.SpecRoot);
        Assert.Equal(3, config.Workers);
        Assert.Equal(["workqueue.controller", "workqueue.worker"], app.Plan.Roles.Select(r => r.Role));
        Assert.Equal(3000, app.Plan.Find("workqueue.controller")!.Ports[0].Base);
    }

    [Fact]
    public void Store_redis_plans_redis_server_before_the_controller_with_its_data_outside_the_run()
    {
        _folder.Write("specs.json", Specs);
        var (app, _) = Catalog.Load(TopologyLoader.Load(_folder.Write("wq.yaml", "app: workqueue\nspecs: specs.json\ncommand: [true]\nstore: redis\n")));

        var redis = app.Plan.Find("workqueue.redis")!;
        Assert.Equal("redis-server", redis.Program!.Executable);
        Assert.Equal("workqueue-redis", redis.Program.DataFolder);
        Assert.Contains("always", redis.Program.Arguments);
        Assert.Equal(["workqueue.redis"], app.Plan.Find("workqueue.controller")!.DependsOn);
    }

    public void Dispose() => _folder.Dispose();
}

using Corral.Counter.Config;
using Corral.Counter.Store;
using Corral.Node.Apps;
using Corral.Node.Topology;

namespace Corral.Counter.Tests.Config;

public sealed class CounterConfigReaderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private (LoadedApp App, IReadOnlyList<TopologyError> Warnings) Load(string name, string yaml)
    {
        var path = _folder.Write(name, yaml);
        return new AppCatalog([new CounterModule()]).Load(TopologyLoader.Load(path));
    }

    [Fact]
    public void The_originals_config_yaml_unchanged_gives_workers_on_its_ports_and_the_store_in_its_database_folder()
    {
        var (app, warnings) = Load("config.yaml", File.ReadAllText(Repo.File("examples", "originals", "counter-003-config.yaml")));
        var config = CounterConfig.FromJson(app.Config);
        Assert.True(config.FromOriginal);
        Assert.Equal([5001, 5002, 5003, 5004], config.WorkerPorts);
        Assert.Equal(Path.Combine(_folder.Path, "db"), config.StorePath);
        Assert.Equal(Path.Combine(_folder.Path, "logs"), config.WorkerLogs);
        Assert.Equal(TimeSpan.FromSeconds(5), config.PersistInterval);
        Assert.Equal(Durability.Sync, config.Durability);
        var workers = app.Plan.Find(CounterPlan.WorkerRole)!;
        Assert.Equal(4, workers.Count);
        Assert.Equal([5001, 5002, 5003, 5004], Enumerable.Range(1, 4).Select(i => workers.PortOf(workers.Ports[0], i)));
        Assert.Equal(5000, app.Plan.Find(CounterPlan.CoordinatorRole)!.Ports[0].Base);
        Assert.Contains(warnings, w => w.Message.StartsWith("config_check:"));
    }

    [Fact]
    public void Worker_urls_on_other_hosts_are_refused_for_local_processes_and_accepted_when_an_engine_runs_the_nodes()
    {
        var path = _folder.Write("config.yaml", "workers:\n  - http://worker-a:5001\n  - http://10.0.0.7:5002\ndatabase: db/\n");
        var catalog = new AppCatalog([new CounterModule()]);

        var local = Assert.Throws<TopologyException>(() => catalog.Load(TopologyLoader.Load(path)));
        Assert.Contains(local.Errors, e => e.Message.Contains("worker URL http://worker-a:5001/ is not on this machine"));

        var (app, _) = catalog.Load(TopologyLoader.Load(path) with { NodesOffThisMachine = true });
        Assert.Equal([5001, 5002], CounterConfig.FromJson(app.Config).WorkerPorts);
    }

    [Theory]
    [InlineData("workers:\n  - http://localhost:5001\n  - http://localhost:5001\ndatabase: db/\n", "port 5001 twice")]
    [InlineData("workers:\n  - ftp://localhost:5001\ndatabase: db/\n", "must be URLs such as http://localhost:5001, got 'ftp://localhost:5001'")]
    [InlineData("workers:\n  - http://example.com:5001\ndatabase: db/\n", "is not on this machine")]
    [InlineData("workers:\n  - http://localhost\ndatabase: db/\n", "must name a port")]
    [InlineData("workers:\n  - http://localhost:5001\ndatabase: ''\n", "database must be a folder")]
    [InlineData("workers:\n  - http://localhost:5001\nworker_persist: 0\n", "worker_persist")]
    public void A_bad_original_file_is_refused_naming_what_is_wrong(string yaml, string expected)
    {
        var error = Assert.Throws<TopologyException>(() => Load("config.yaml", yaml));
        Assert.Contains(error.Errors, e => e.Message.Contains(expected));
    }

    [Theory]
    [InlineData("app: counter\nworkerz: 3\n", "unknown key 'workerz'")]
    [InlineData("app: counter\ndurability: maybe\n", "durability must be one of sync, fsync, periodic")]
    [InlineData("app: counter\npartitions: 0\n", "partitions")]
    [InlineData("app: counter\nbatch-limit: -1\n", "batch-limit")]
    [InlineData("app: counter\nports:\n  coordinator: 70000\n", "ports.coordinator")]
    public void Corral_format_rejects_unknown_keys_and_out_of_range_values(string yaml, string expected)
    {
        var error = Assert.Throws<TopologyException>(() => Load("counter.yaml", yaml));
        Assert.Contains(error.Errors, e => e.Message.Contains(expected));
    }

    [Fact]
    public void The_example_topology_loads_with_its_defaults()
    {
        var (app, warnings) = new AppCatalog([new CounterModule()]).Load(TopologyLoader.Load(Repo.File("examples", "counter.yaml")));
        Assert.Empty(warnings);
        var config = CounterConfig.FromJson(app.Config);
        Assert.Equal(4, config.Workers);
        Assert.Equal(32, config.Partitions);
        Assert.Equal(10, app.Plan.Find(CounterPlan.WorkerRole)!.MaxRestarts);
    }

    [Fact]
    public void A_reload_may_change_workers_but_not_where_the_store_is_or_its_partition_count()
    {
        var module = new CounterModule();
        var running = new CounterConfig { StorePath = "/data/db" }.ToJson();
        Assert.Null(module.ReloadProblem(running, new CounterConfig { StorePath = "/data/db", Workers = 7 }.ToJson()));
        Assert.Contains("the store's folder changed from /data/db to /data/other", module.ReloadProblem(running, new CounterConfig { StorePath = "/data/other" }.ToJson()));
        Assert.Contains("partitions changed from 32 to 64", module.ReloadProblem(running, new CounterConfig { StorePath = "/data/db", Partitions = 64 }.ToJson()));
    }

    [Fact]
    public void A_reload_that_changes_durability_restarts_the_workers_and_one_that_changes_timeouts_the_coordinator()
    {
        var before = CounterPlan.Create(new CounterConfig());
        var durable = CounterPlan.Create(new CounterConfig { Durability = Durability.Fsync });
        var patient = CounterPlan.Create(new CounterConfig { RetryBudget = TimeSpan.FromMinutes(1) });
        Assert.False(before.Find(CounterPlan.WorkerRole)!.StartsLike(durable.Find(CounterPlan.WorkerRole)!));
        Assert.True(before.Find(CounterPlan.CoordinatorRole)!.StartsLike(durable.Find(CounterPlan.CoordinatorRole)!));
        Assert.True(before.Find(CounterPlan.WorkerRole)!.StartsLike(patient.Find(CounterPlan.WorkerRole)!));
        Assert.False(before.Find(CounterPlan.CoordinatorRole)!.StartsLike(patient.Find(CounterPlan.CoordinatorRole)!));
    }

    [Fact]
    public void A_partition_count_other_than_the_stores_is_refused_before_anything_starts()
    {
        new StoreLayout(_folder.Combine("store"), 16).EnsureCreated();
        Load("ok.yaml", "app: counter\npartitions: 16\nstore: store/\n");
        var error = Assert.Throws<TopologyException>(() => Load("bad.yaml", "app: counter\npartitions: 32\nstore: store/\n"));
        Assert.Contains(error.Errors, e => e.Message.Contains("was created with 16 partitions and this config asks for 32"));
    }
}

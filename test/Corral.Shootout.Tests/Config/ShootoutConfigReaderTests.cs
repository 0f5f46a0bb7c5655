using Corral.Node.Apps;
using Corral.Node.Planning;
using Corral.Node.Storage;
using Corral.Node.Topology;
using Corral.Shootout.Config;
using Corral.Shootout.Peer;

namespace Corral.Shootout.Tests.Config;

public sealed class ShootoutConfigReaderTests
{
    private const string Valid = """
        app: shootout
        tick: 1s
        seed: 7
        cowboys:
          - {name: John, health: 10, damage: 1}
          - {name: Bill, health: 8, damage: 2}
        """;

    private static (ShootoutReadResult Result, TopologyDiagnostics Diagnostics) Load(string text, params string[] overrides)
    {
        var document = TopologyOverrides.Apply(new TopologyDocument("t.yaml", TopologyParser.Parse(text, "t.yaml")), overrides);
        var diagnostics = new TopologyDiagnostics();
        return (ShootoutConfigReader.Read(document, diagnostics), diagnostics);
    }

    private static TopologyError SingleError(string text, params string[] overrides)
    {
        var (result, diagnostics) = Load(text, overrides);
        Assert.Null(result.Config);
        return Assert.Single(diagnostics.Errors);
    }

    [Fact]
    public void Example_loads_with_five_cowboys_and_its_settings()
    {
        var catalog = new AppCatalog([new ShootoutModule()]);
        var (app, warnings) = catalog.Load(TopologyLoader.Load(Repo.File("examples", "shootout.yaml")));
        Assert.Empty(warnings);
        var config = ShootoutConfig.FromJson(app.Config);
        Assert.Equal(["John", "Bill", "Sam", "Peter", "Philip"], config.Cowboys.Select(c => c.Name));
        Assert.Equal((10, 1), (config.Cowboys[0].Health, config.Cowboys[0].Damage));
        Assert.Equal((15, 1), (config.Cowboys[4].Health, config.Cowboys[4].Damage));
        Assert.Equal(TimeSpan.FromSeconds(1), config.Tick);
        Assert.Equal(42, config.Seed);
        Assert.Equal(1, config.Rounds);
        Assert.Equal(ShootoutMode.Server, config.Mode);
    }

    [Fact]
    public void Plan_has_a_singleton_server_and_one_node_per_cowboy()
    {
        var (result, _) = Load(Valid + "\nrestarts: {cowboy: 9, server: 2}\n");
        var plan = result.Plan!;
        var server = plan.Find(ShootoutPlan.ServerRole)!;
        var cowboy = plan.Find(ShootoutPlan.CowboyRole)!;
        Assert.Equal(["server"], server.NodeIds());
        Assert.Equal(8080, server.PortOf(server.Ports[0], 1));
        Assert.Equal(RestartPolicy.OnFailure, server.Restart);
        Assert.Equal(2, server.MaxRestarts);
        Assert.Equal(["cowboy-1", "cowboy-2"], cowboy.NodeIds());
        Assert.Equal([8100, 8101], new[] { 1, 2 }.Select(i => cowboy.PortOf(cowboy.Ports[0], i)));
        Assert.Equal([ShootoutPlan.ServerRole], cowboy.DependsOn);
        Assert.Equal(9, cowboy.MaxRestarts);
    }

    [Fact]
    public void Overrides_change_tick_and_rounds()
    {
        var (result, diagnostics) = Load(Valid, "tick=50ms", "rounds=3");
        Assert.Empty(diagnostics.Errors);
        Assert.Equal(TimeSpan.FromMilliseconds(50), result.Config!.Tick);
        Assert.Equal(3, result.Config.Rounds);
    }

    [Fact]
    public void Duplicate_names_are_refused_naming_both_places()
    {
        var error = SingleError("""
            app: shootout
            cowboys:
              - {name: John, health: 10, damage: 1}
              - {name: John, health: 8, damage: 2}
            """);
        Assert.Equal("t.yaml:4:12", error.Position.ToString());
        Assert.Contains("cowboys[1].name 'John' is already the name of cowboys[0] (t.yaml:3:12): names must be unique", error.Message);
    }

    [Theory]
    [InlineData("Bi ll")]
    [InlineData("../x")]
    [InlineData("a.b")]
    public void Names_outside_letters_digits_dash_underscore_are_refused(string name)
    {
        var error = SingleError($$"""
            app: shootout
            cowboys:
              - {name: John, health: 10, damage: 1}
              - {name: '{{name}}', health: 8, damage: 2}
            """);
        Assert.Equal("t.yaml:4:12", error.Position.ToString());
        Assert.Equal($"cowboys[1].name '{name}' is not a valid cowboy name: use 1 to 64 letters, digits, '-' or '_'", error.Message);
    }

    [Fact]
    public void Empty_name_is_refused()
    {
        var error = SingleError("""
            app: shootout
            cowboys:
              - {name: '', health: 10, damage: 1}
              - {name: Bill, health: 8, damage: 2}
            """);
        Assert.Equal("t.yaml:3:12", error.Position.ToString());
        Assert.StartsWith("cowboys[0].name must not be empty", error.Message);
    }

    [Fact]
    public void Health_below_one_is_refused()
    {
        var error = SingleError("""
            app: shootout
            cowboys:
              - {name: John, health: 0, damage: 1}
              - {name: Bill, health: 8, damage: 2}
            """);
        Assert.Equal("t.yaml:3:26", error.Position.ToString());
        Assert.Equal("cowboys[0].health must be a whole number from 1 to 1000000, got 0", error.Message);
    }

    [Fact]
    public void Damage_below_one_is_refused()
    {
        var error = SingleError("""
            app: shootout
            cowboys:
              - {name: John, health: 10, damage: 1}
              - {name: Bill, health: 8, damage: -2}
            """);
        Assert.Equal("t.yaml:4:37", error.Position.ToString());
        Assert.Equal("cowboys[1].damage must be a whole number from 1 to 1000000, got -2", error.Message);
    }

    [Fact]
    public void A_single_cowboy_is_refused()
    {
        var error = SingleError("""
            app: shootout
            cowboys:
              - {name: John, health: 10, damage: 1}
            """);
        Assert.Equal("t.yaml:3:3", error.Position.ToString());
        Assert.Equal("cowboys must hold at least 2 cowboys (a shootout needs a rival), got 1", error.Message);
    }

    [Fact]
    public void Missing_cowboys_are_reported()
    {
        var error = SingleError("app: shootout\ntick: 1s\n");
        Assert.Equal("t.yaml:1:1", error.Position.ToString());
        Assert.StartsWith("cowboys is missing: expected a list of at least 2 cowboys", error.Message);
    }

    [Theory]
    [InlineData("-1s")]
    [InlineData("fast")]
    [InlineData("5")]
    [InlineData("٣s")]
    [InlineData("99999999999999999999h")]
    public void Negative_or_unreadable_tick_is_refused(string tick)
    {
        var error = SingleError(Valid.Replace("tick: 1s", $"tick: '{tick}'"));
        Assert.Equal("t.yaml:2:7", error.Position.ToString());
        Assert.Equal($"tick must be a duration such as 50ms, 1s, 1.5s, 2m or 0 (digits 0-9, at most 1000h), got '{tick}'", error.Message);
    }

    [Fact]
    public void Durability_is_fsync_unless_set_to_sync()
    {
        Assert.Equal(Durability.Fsync, Load(Valid).Result.Config!.Durability);
        Assert.Equal(Durability.Sync, Load(Valid, "durability=sync").Result.Config!.Durability);
        Assert.Equal("durability must be one of sync, fsync, got 'fast'", SingleError(Valid, "durability=fast").Message);
        Assert.StartsWith("durability must be one of sync, fsync, got 'periodic'", SingleError(Valid, "durability=periodic").Message);
    }

    [Theory]
    [InlineData("full", Durability.Fsync)]
    [InlineData("normal", Durability.Sync)]
    public void The_old_durability_words_still_work_with_a_warning_naming_the_new_one(string old, Durability expected)
    {
        var (result, diagnostics) = Load(Valid + $"\ndurability: {old}\n");

        Assert.Equal(expected, result.Config!.Durability);
        Assert.Empty(diagnostics.Errors);
        var warning = Assert.Single(diagnostics.Warnings);
        Assert.Equal("t.yaml:7:13", warning.Position.ToString());
        Assert.Contains($"'{old}' is the old name of '{expected.Name()}'", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tick_zero_lifts_the_limit()
    {
        var (result, _) = Load(Valid.Replace("tick: 1s", "tick: 0"));
        Assert.Equal(TimeSpan.Zero, result.Config!.Tick);
    }

    [Fact]
    public void Rounds_below_one_are_refused()
    {
        var error = SingleError(Valid + "\nrounds: 0\n");
        Assert.Equal("t.yaml:7:9", error.Position.ToString());
        Assert.Equal("rounds must be a whole number from 1 to 10000, got 0", error.Message);
    }

    [Fact]
    public void Unknown_top_level_key_is_refused_with_the_valid_keys()
    {
        var error = SingleError(Valid + "\ntickk: 2s\n");
        Assert.Equal("t.yaml:7:1", error.Position.ToString());
        Assert.StartsWith("unknown key 'tickk': valid keys here are app, cowboys, durability, etcd, intermission, mode,", error.Message);
    }

    [Fact]
    public void Unknown_cowboy_key_is_refused()
    {
        var error = SingleError(Valid.Replace("{name: Bill, health: 8, damage: 2}", "{name: Bill, health: 8, damage: 2, speed: 3}"));
        Assert.Equal("t.yaml:6:40", error.Position.ToString());
        Assert.Equal("unknown key 'cowboys[1].speed': valid keys here are damage, health, name", error.Message);
    }

    [Fact]
    public void Peer_mode_without_endpoints_plans_an_etcd_role_the_cowboys_wait_for()
    {
        var (result, diagnostics) = Load(Valid, "mode=peer");
        Assert.Empty(diagnostics.Errors);
        var plan = result.Plan!;
        Assert.Null(plan.Find(ShootoutPlan.ServerRole));
        var etcd = plan.Find(PeerPlan.EtcdRole)!;
        Assert.Equal("etcd", etcd.Program!.Executable);
        Assert.Contains("apt-get install etcd-server", etcd.Program.InstallHint);
        Assert.Contains("etcd: http://HOST:2379", etcd.Program.InstallHint);
        Assert.Contains("{data}/store", etcd.Program.Arguments);
        Assert.Empty(etcd.Ports);
        Assert.DoesNotContain(etcd.Program.Arguments, a => a.Contains("http", StringComparison.Ordinal));
        Assert.Equal([PeerPlan.EtcdRole], plan.Find(ShootoutPlan.CowboyRole)!.DependsOn);
    }

    [Fact]
    public void Peer_mode_with_endpoints_plans_only_cowboys()
    {
        var (result, diagnostics) = Load(Valid, "mode=peer", "etcd=http://127.0.0.1:2379,http://127.0.0.1:22379");
        Assert.Empty(diagnostics.Errors);
        Assert.Equal("http://127.0.0.1:2379,http://127.0.0.1:22379", result.Config!.Etcd);
        Assert.Equal([ShootoutPlan.CowboyRole], result.Plan!.Roles.Select(r => r.Role));
        Assert.Empty(result.Plan.Roles[0].DependsOn);
    }

    [Fact]
    public void A_bad_etcd_endpoint_is_refused_naming_it()
    {
        var error = SingleError(Valid, "mode=peer", "etcd=http://127.0.0.1:2379,localhost");
        Assert.Contains("etcd endpoint 'localhost' is not http://HOST:PORT", error.Message);
    }

    [Fact]
    public void Every_error_is_reported_at_once()
    {
        var (_, diagnostics) = Load("""
            app: shootout
            rounds: 0
            colour: red
            cowboys:
              - {name: John, health: 0, damage: 1}
              - {name: Bill, health: 8, damage: 1}
              - {name: Bill, health: 8, damage: 1}
            """);
        Assert.Equal(["t.yaml:2:9", "t.yaml:5:26", "t.yaml:7:12", "t.yaml:3:1"], diagnostics.Errors.Select(e => e.Position.ToString()));
    }

    [Fact]
    public void Seed_000_config_runs_in_server_mode_with_one_second_ticks()
    {
        var module = new ShootoutModule();
        var document = TopologyLoader.Load(Repo.File("examples", "originals", "shootout-000-config.json"));
        Assert.True(module.RecognisesOriginal(document.Root));
        var (app, warnings) = new AppCatalog([module]).Load(document);
        Assert.Empty(warnings);
        var config = ShootoutConfig.FromJson(app.Config);
        Assert.Equal(ShootoutMode.Server, config.Mode);
        Assert.Equal(TimeSpan.FromSeconds(1), config.Tick);
        Assert.Equal(["cowboy1", "cowboy2", "cowboy3", "cowboy4", "cowboy5"], config.Cowboys.Select(c => c.Name));
        Assert.Equal([2, 3, 1, 2, 1], config.Cowboys.Select(c => c.Damage));
        Assert.Equal(5, app.Plan.Find(ShootoutPlan.CowboyRole)!.Count);
    }

    [Fact]
    public void Seed_000_unknown_keys_warn_once_each()
    {
        var (result, diagnostics) = Load("""
            [{"name":"a","health":10,"damage":2,"is_alive":true,"winner":"","hat":"black"},
             {"name":"b","health":10,"damage":3,"is_alive":true,"winner":""}]
            """);
        Assert.NotNull(result.Config);
        var warning = Assert.Single(diagnostics.Warnings);
        Assert.Equal("key '[0].hat' has no meaning in Corral and is ignored", warning.Message);
        Assert.Equal("t.yaml:1:65", warning.Position.ToString());
    }

    [Fact]
    public void Seed_000_validation_applies_too()
    {
        var error = SingleError("""[{"name":"a","health":10,"damage":2},{"name":"b","health":0,"damage":3}]""");
        Assert.Equal("[1].health must be a whole number from 1 to 1000000, got 0", error.Message);
    }

    [Fact]
    public void Seed_001_resource_runs_in_peer_mode_as_its_original()
    {
        var module = new ShootoutModule();
        var path = Repo.File("examples", "originals", "shootout-001-shootout.yaml");
        var document = TopologyLoader.Load(path);
        Assert.True(module.RecognisesOriginal(document.Root));
        var (app, _) = new AppCatalog([module]).Load(document);
        var config = ShootoutConfig.FromJson(app.Config);
        Assert.Equal(ShootoutMode.Peer, config.Mode);
        Assert.Equal(5, app.Plan.Find(ShootoutPlan.CowboyRole)!.Count);
        Assert.NotNull(app.Plan.Find(PeerPlan.EtcdRole));
    }

    [Fact]
    public void Peer_example_loads_in_peer_mode()
    {
        var (app, warnings) = new AppCatalog([new ShootoutModule()]).Load(TopologyLoader.Load(Repo.File("examples", "shootout-peer.yaml")));
        Assert.Empty(warnings);
        Assert.Equal(ShootoutMode.Peer, ShootoutConfig.FromJson(app.Config).Mode);
    }

    [Fact]
    public void Seed_001_resource_runs_with_mode_server()
    {
        var path = Repo.File("examples", "originals", "shootout-001-shootout.yaml");
        var (app, warnings) = new AppCatalog([new ShootoutModule()]).Load(TopologyLoader.Load(path, ["mode=server"]));
        var config = ShootoutConfig.FromJson(app.Config);
        Assert.Equal(ShootoutMode.Server, config.Mode);
        Assert.Equal(["John", "Bill", "Sam", "Peter", "Philip"], config.Cowboys.Select(c => c.Name));
        Assert.Equal([10, 8, 10, 5, 15], config.Cowboys.Select(c => c.Health));
        var warning = Assert.Single(warnings);
        Assert.Equal("key 'metadata' has no meaning in Corral and is ignored", warning.Message);
    }

    [Fact]
    public void Seed_001_bad_embedded_json_is_reported_at_spec_cowboys()
    {
        var error = SingleError("""
            apiVersion: example.com/v1alpha1
            kind: Shootout
            spec:
              cowboys: '[{"name": "John", "health": 10, "damage": 1}, {"name": "Bill", "health": 8, "damage": 0}]'
            """, "mode=server");
        Assert.Equal("t.yaml:4:12", error.Position.ToString());
        Assert.Equal("spec.cowboys[1].damage must be a whole number from 1 to 1000000, got 0", error.Message);
    }

    [Fact]
    public void Config_round_trips_through_json()
    {
        var (result, _) = Load(Valid, "tick=50ms");
        var back = ShootoutConfig.FromJson(result.Config!.ToJson());
        Assert.Equal(result.Config.Tick, back.Tick);
        Assert.Equal(result.Config.Cowboys, back.Cowboys);
        Assert.Equal(result.Config.Seed, back.Seed);
    }

    [Fact]
    public void Set_applies_to_the_settings_of_seed_000s_own_file_whose_top_level_is_a_list()
    {
        var catalog = new AppCatalog([new ShootoutModule()]);
        var path = Repo.File("examples", "originals", "shootout-000-config.json");

        var (app, _) = catalog.Load(TopologyLoader.Load(path, ["tick=50ms", "rounds=2", "seed=11", "0.health=3", "restarts.cowboy=7"]));

        var config = ShootoutConfig.FromJson(app.Config);
        Assert.Equal(TimeSpan.FromMilliseconds(50), config.Tick);
        Assert.Equal(2, config.Rounds);
        Assert.Equal(11, config.Seed);
        Assert.Equal(3, config.Cowboys[0].Health);
        Assert.Equal(5, config.Cowboys.Count);
        Assert.Equal(7, app.Plan.Find("shootout.cowboy")!.MaxRestarts);
    }

    [Fact]
    public void A_setting_seed_000s_file_does_not_know_is_an_error_naming_it()
    {
        var catalog = new AppCatalog([new ShootoutModule()]);
        var path = Repo.File("examples", "originals", "shootout-000-config.json");

        var e = Assert.Throws<TopologyException>(() => catalog.Load(TopologyLoader.Load(path, ["tik=50ms"])));

        var error = Assert.Single(e.Errors);
        Assert.Contains("tik", error.Message);
        Assert.Equal("--set tik=50ms", error.Position.Source);
    }
}

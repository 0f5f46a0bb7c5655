using System.Collections.Concurrent;
using System.Text.Json;
using Corral.Node.Apps;
using Corral.Node.Planning;
using Corral.Node.Topology;
using Corral.Supervisor.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>What a topology edit does to a running plan: applied with its config, or refused with the reason said.</summary>
public sealed class TopologyWatcherTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly InMemoryTopologySource _source = new(StubApp.Loaded("""{"n": 1}""", StubApp.Role("a", 1)));
    private readonly ConfigFeed _config = new(JsonDocument.Parse("""{"n": 1}""").RootElement);
    private readonly ConcurrentQueue<AppPlan> _applied = new();
    private readonly ConcurrentQueue<string> _said = new();
    private readonly TaskCompletionSource _firstApplied = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TopologyWatcher _watcher;

    public TopologyWatcherTests()
    {
        var running = _source.Load().Plan;
        _watcher = new TopologyWatcher(_source, () => running, _config, plan =>
        {
            _applied.Enqueue(plan);
            _firstApplied.TrySetResult();
            return null;
        }, _said.Enqueue);
    }

    [Fact]
    public void A_valid_edit_is_applied_and_its_config_published_as_the_next_version()
    {
        _source.Set(StubApp.Loaded("""{"n": 2}""", StubApp.Role("a", 3)));

        _watcher.Reload();

        Assert.Equal(3, Assert.Single(_applied).Roles[0].Count);
        Assert.Equal(2, _config.Current.Version);
        Assert.Equal(["config version 2 published"], _said);
    }

    [Fact]
    public void An_edit_with_the_same_config_applies_the_plan_and_publishes_nothing()
    {
        _source.Set(StubApp.Loaded("""{"n": 1}""", StubApp.Role("a", 2)));

        _watcher.Reload();

        Assert.Single(_applied);
        Assert.Equal(1, _config.Current.Version);
        Assert.Empty(_said);
    }

    [Fact]
    public void An_edit_that_does_not_validate_is_said_and_changes_nothing()
    {
        _source.Set(() => throw new TopologyException(new SourcePosition("topology.yaml", 3, 9), "count must be at least 1, got -2"));

        _watcher.Reload();

        Assert.Empty(_applied);
        Assert.Equal(1, _config.Current.Version);
        Assert.Equal(["reload rejected: topology.yaml:3:9: count must be at least 1, got -2"], _said);
    }

    [Fact]
    public void An_edit_that_changes_the_app_is_refused()
    {
        _source.Set(new LoadedApp(StubApp.Instance, new AppPlan { App = "other", Roles = [StubApp.Role("a", 1)] },
            JsonDocument.Parse("""{"n": 2}""").RootElement));

        _watcher.Reload();

        Assert.Empty(_applied);
        Assert.Equal(["reload rejected: the app changed from test to other; stop and start corral again"], _said);
    }

    [Fact]
    public async Task A_reader_failing_on_an_edit_is_said_and_later_edits_still_apply()
    {
        using var stop = new CancellationTokenSource();
        var watching = _watcher.WatchAsync(stop.Token);

        // What the duration reader threw on tick: 99999999999999999999h before it bounded durations.
        _source.Set(() => throw new OverflowException("TimeSpan overflowed because the duration is too long."));
        await WaitUntil(() => !_said.IsEmpty);
        // Set again until it lands: a change signalled while the watcher is still saying the refusal is not awaited yet.
        await WaitUntil(() =>
        {
            _source.Set(StubApp.Loaded("""{"n": 2}""", StubApp.Role("a", 2)));
            return _firstApplied.Task.IsCompleted;
        });

        Assert.StartsWith("reload rejected, the running plan stays: the topology could not be read (OverflowException", _said.First());
        Assert.Equal(2, _applied.First().Roles[0].Count);
        Assert.False(watching.IsCompleted);
        await stop.CancelAsync();
        await watching.WaitAsync(Bound);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (!condition())
        {
            await Task.Delay(10, bound.Token);
        }
    }

    [Fact]
    public async Task Watching_applies_each_change_the_source_signals_until_cancelled()
    {
        using var stop = new CancellationTokenSource();
        var watching = _watcher.WatchAsync(stop.Token);

        _source.Set(StubApp.Loaded("""{"n": 2}""", StubApp.Role("a", 2)));
        await _firstApplied.Task.WaitAsync(Bound);

        await stop.CancelAsync();
        await watching.WaitAsync(Bound);
        Assert.Equal(2, _config.Current.Version);
    }
}

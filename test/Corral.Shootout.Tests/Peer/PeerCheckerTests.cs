using System.Text.Json.Nodes;
using Corral.Shootout.Checking;

namespace Corral.Shootout.Tests.Peer;

/// <summary>One real peer history (two rounds of four cowboys through a real etcd), played once for all the checker tests.</summary>
public sealed class PeerHistoryFixture : IAsyncLifetime
{
    public string[] History { get; private set; } = [];

    public async Task InitializeAsync()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var config = PeerRunTests.Seeded(5, etcd.Endpoints, cowboys: 4) with { Rounds = 2 };
        await using var run = await PeerHarness.StartAsync(config, "corruptions");
        await run.Finished.WaitAsync(TimeSpan.FromSeconds(60));
        History = await File.ReadAllLinesAsync(run.EventsFile);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>The checker over a real peer history, and over that history corrupted in each way the checker names.</summary>
public sealed class PeerCheckerTests(PeerHistoryFixture fixture) : IClassFixture<PeerHistoryFixture>
{
    private readonly string[] _history = fixture.History;

    private JsonObject[] Events() => _history.Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();

    private static IReadOnlyList<string> Kinds(IEnumerable<JsonObject> events) =>
        ShootoutChecker.Check(events.Select(e => e.ToJsonString())).Violations.Select(v => v.Kind).Distinct().ToArray();

    /// <summary>Sequence numbers 1, 2, ... again after lines were added or removed (so only the corruption under test is wrong).</summary>
    private static JsonObject[] Renumber(IEnumerable<JsonObject> events) =>
        events.Select((e, i) =>
        {
            var copy = e.DeepClone().AsObject();
            copy["seq"] = i + 1;
            return copy;
        }).ToArray();

    private static int IndexOf(JsonObject[] events, Func<JsonObject, bool> match) => Array.FindIndex(events, e => match(e));

    private static bool IsShot(JsonObject e) => (string?)e["kind"] == "shot";

    [Fact]
    public void The_real_peer_history_passes_with_revisions_and_beats_on_every_shot()
    {
        var result = ShootoutChecker.Check(_history);
        Assert.True(result.Passed, string.Join("\n", result.Violations));
        Assert.Equal(2, result.Winners.Count);
        Assert.All(Events().Where(IsShot), e =>
        {
            Assert.NotNull(e["revision"]);
            Assert.NotNull(e["beat"]);
        });
    }

    [Fact]
    public void A_missing_line_is_a_sequence_gap() =>
        Assert.Contains(ViolationKinds.SequenceGap, Kinds(Events().Where((_, i) => i != 10)));

    [Fact]
    public void Lines_out_of_revision_order_are_named()
    {
        var events = Events();
        var a = IndexOf(events, IsShot);
        var b = Array.FindIndex(events, a + 1, IsShot);
        (events[a]["revision"], events[b]["revision"]) = (events[b]["revision"]!.DeepClone(), events[a]["revision"]!.DeepClone());
        Assert.Contains(ViolationKinds.RevisionOutOfOrder, Kinds(events));
    }

    [Fact]
    public void A_peer_event_without_its_revision_is_named()
    {
        var events = Events();
        events[IndexOf(events, IsShot)].Remove("revision");
        Assert.Contains(ViolationKinds.MissingRevision, Kinds(events));
    }

    [Fact]
    public void Two_shots_by_one_cowboy_in_one_beat_are_named()
    {
        var events = Events();
        var (first, second) = events.Index().Where(x => IsShot(x.Item))
            .SelectMany(a => events.Index().Skip(a.Index + 1).Where(b => IsShot(b.Item) && (string?)b.Item["shooter"] == (string?)a.Item["shooter"] &&
                                                                        (int)b.Item["round"]! == (int)a.Item["round"]!)
                .Select(b => (a.Index, b.Index)))
            .First();
        events[second]["beat"] = events[first]["beat"]!.DeepClone();
        Assert.Contains(ViolationKinds.TwoShotsInBeat, Kinds(events));
    }

    [Fact]
    public void A_shot_that_took_more_than_the_damage_is_named()
    {
        var events = Events();
        var shot = events[IndexOf(events, e => IsShot(e) && (int)e["healthAfter"]! > 0)];
        shot["healthAfter"] = (int)shot["healthAfter"]! - 1;
        Assert.Contains(ViolationKinds.WrongHealth, Kinds(events));
    }

    [Fact]
    public void A_shot_by_a_dead_cowboy_is_named()
    {
        var events = Events().ToList();
        var death = events.FindIndex(e => (string?)e["kind"] == "death");
        var dead = (string)events[death]["cowboy"]!;
        var later = events.FindIndex(death, e => IsShot(e) && (string?)e["shooter"] != dead && (string?)e["target"] != dead);
        var shot = events[later].DeepClone().AsObject();
        shot["shooter"] = dead;
        events.Insert(later, shot);
        Assert.Contains(ViolationKinds.ShotByDead, Kinds(Renumber(events)));
    }

    [Fact]
    public void A_second_winner_for_a_round_is_named()
    {
        var events = Events().ToList();
        var winner = events.FindIndex(e => (string?)e["kind"] == "winner");
        var again = events[winner].DeepClone().AsObject();
        again["cowboy"] = (string?)events.First(e => IsShot(e) && (string?)e["target"] != (string?)events[winner]["cowboy"])["target"];
        events.Insert(winner + 1, again);
        Assert.Contains(ViolationKinds.WinnerTwice, Kinds(Renumber(events)));
    }

    [Fact]
    public void A_round_without_its_winner_is_named() =>
        Assert.Contains(ViolationKinds.NoWinner, Kinds(Renumber(Events().Where((e, i) => i != IndexOf(Events(), x => (string?)x["kind"] == "winner")))));
}

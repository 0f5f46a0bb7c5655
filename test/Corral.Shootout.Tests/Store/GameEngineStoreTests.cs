using System.Text.Json;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Server;
using Corral.Shootout.Store;
using Corral.Shootout.Tests.Helpers;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Shootout.Tests.Store;

public sealed class GameEngineStoreTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TempFolder _dir = new();

    private string Db => _dir.Combine("data", ShootoutStore.FileName);
    private string Events => _dir.Combine("runs", "r1", ShootoutChecker.EventsFile);

    private GameEngine Open(ShootoutConfig config, TimeProvider time, string runId = "r1", TimeSpan? lockTimeout = null) =>
        GameEngine.Open(config, config.Seed ?? 0, Db, Events, runId, time, NullLogger.Instance, lockTimeout: lockTimeout);

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={Db};Pooling=False");
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long CommittedShots()
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM events WHERE run_id = 'r1' AND kind = 'shot'";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The store's history of run r1, each event as the line <c>events.jsonl</c> must hold for it.</summary>
    private string[] StoreLines()
    {
        using var store = new ShootoutStore(Db, "r1");
        return store.LoadEvents().Select(e => JsonSerializer.Serialize(e, GameEventJson.Default.GameEvent)).ToArray();
    }

    private static async Task RegisterAll(GameEngine engine, int count)
    {
        for (var i = 1; i <= count; i++) Assert.Null((await engine.RegisterAsync($"cowboy-{i}").WaitAsync(Wait)).Refusal);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_reply_is_sent_only_after_the_shot_is_in_the_database()
    {
        var time = new FakeTimeProvider();
        await using var engine = Open(Configs.Many(3, 10, 1, TimeSpan.Zero), time, lockTimeout: TimeSpan.FromSeconds(60));
        await RegisterAll(engine, 3);

        // Another connection takes the database's write lock, so no commit can happen until it lets go.
        using var holder = Connect();
        Execute(holder, "BEGIN IMMEDIATE");
        var commitsBefore = engine.CommitsStarted;
        var reply = engine.ShootAsync("c1", "cowboy-1");

        // The writer has applied the shot and entered the transaction that must wait for the lock: a reply sent
        // before the commit would already be here. It stays unanswered while the lock is held.
        await Eventually.TrueAsync(() => engine.CommitsStarted > commitsBefore, Wait, "the writer to start committing the shot");
        Assert.False(reply.IsCompleted, "the shot was answered before it was committed");
        Assert.NotSame(reply, await Task.WhenAny(reply, Task.Delay(TimeSpan.FromMilliseconds(300))));
        Assert.Equal(0, CommittedShots());

        Execute(holder, "ROLLBACK");
        var report = (await reply.WaitAsync(Wait)).Report!;

        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, shooter, target FROM events WHERE run_id = 'r1' AND seq = $seq";
        command.Parameters.AddWithValue("$seq", report.Seq);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal((EventKinds.Shot, "c1", report.Target), (reader.GetString(0), reader.GetString(1), reader.GetString(2)));
    }

    [Fact]
    public async Task A_failed_append_to_events_jsonl_answers_the_committed_shot_and_the_file_catches_up_while_the_run_goes_on()
    {
        var time = new FakeTimeProvider();
        await using var engine = Open(Configs.Many(3, 10, 1, TimeSpan.Zero), time);
        await RegisterAll(engine, 3);
        Assert.NotNull((await engine.ShootAsync("c1", "cowboy-1").WaitAsync(Wait)).Report);
        Assert.False(engine.EventsFileBehind);

        using (BrokenFile.Break(Events))
        {
            // The disk is full: the shot is committed, so its reply is the shot, not an error.
            var second = await engine.ShootAsync("c2", "cowboy-2").WaitAsync(Wait);
            Assert.NotNull(second.Report);
            Assert.True(engine.EventsFileBehind);
            Assert.Equal(2, CommittedShots());

            // A catch-up tried while the file is still unwritable leaves it behind and answers the shot all the same.
            time.Advance(GameEngine.CatchUpInterval);
            Assert.NotNull((await engine.ShootAsync("c3", "cowboy-3").WaitAsync(Wait)).Report);
            Assert.True(engine.EventsFileBehind);
        }

        // The file is writable again: the next batch after the interval writes everything the store committed.
        Assert.NotNull((await engine.ShootAsync("c1", "cowboy-1").WaitAsync(Wait)).Report);
        Assert.True(engine.EventsFileBehind, "a catch-up is tried at most once per interval");
        time.Advance(GameEngine.CatchUpInterval);
        Assert.NotNull((await engine.ShootAsync("c2", "cowboy-2").WaitAsync(Wait)).Report);
        Assert.False(engine.EventsFileBehind);
        Assert.Equal(5, CommittedShots());
        Assert.Equal(StoreLines(), File.ReadAllLines(Events));
        Assert.True(ShootoutChecker.CheckFile(Events).Passed);
    }

    [Fact]
    public async Task The_events_file_is_level_with_the_store_when_the_game_reports_its_winner()
    {
        var time = new FakeTimeProvider();
        await using var engine = Open(Configs.Many(3, 1, 1, TimeSpan.Zero), time);
        await RegisterAll(engine, 3);
        using (BrokenFile.Break(Events))
        {
            Assert.True((await engine.ShootAsync("c1", "cowboy-1").WaitAsync(Wait)).Report!.Killed);
        }

        // The clock has not moved, so no catch-up is due by the interval: only the end of the game levels the file,
        // before the outcome is reported (the supervisor then stops the run and `corral check` reads the file).
        Assert.Equal("c1", (await engine.ShootAsync("c1", "cowboy-1").WaitAsync(Wait)).Report!.Winner);
        await engine.Finished.WaitAsync(Wait);
        Assert.False(engine.EventsFileBehind);
        Assert.Equal(StoreLines(), File.ReadAllLines(Events));
        Assert.True(ShootoutChecker.CheckFile(Events).Passed);
    }

    [Fact]
    public async Task An_events_file_still_behind_at_the_end_of_the_run_is_written_from_the_store_on_stop()
    {
        var time = new FakeTimeProvider();
        var engine = Open(Configs.Many(3, 10, 1, TimeSpan.Zero), time);
        await RegisterAll(engine, 3);
        using (BrokenFile.Break(Events))
        {
            for (var i = 1; i <= 3; i++) Assert.NotNull((await engine.ShootAsync($"c{i}", $"cowboy-{i}").WaitAsync(Wait)).Report);
            Assert.True(engine.EventsFileBehind);
        }

        await engine.DisposeAsync();
        Assert.Equal(3, CommittedShots());
        Assert.Equal(StoreLines(), File.ReadAllLines(Events));
        Assert.True(ShootoutChecker.CheckFile(Events).Passed);
    }

    [Fact]
    public async Task Reopening_mid_round_resumes_the_identical_state_and_the_same_future()
    {
        var config = Configs.Many(5, 6, 1, TimeSpan.FromSeconds(1));
        var time = new FakeTimeProvider();
        string before;
        await using (var engine = Open(config, time))
        {
            await RegisterAll(engine, 5);
            for (var t = 0; t < 3; t++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                foreach (var c in config.Cowboys) await engine.ShootAsync(c.Name, $"cowboy-{c.Name[1..]}").WaitAsync(Wait);
            }

            before = JsonSerializer.Serialize(engine.Snapshot);
            Assert.Equal("running", engine.Snapshot.Status);
        }

        await using (var resumed = Open(config with { Seed = 999 }, time))
        {
            // The run keeps the config it started with (seed 42), not the one passed on resume.
            Assert.Equal(before, JsonSerializer.Serialize(resumed.Snapshot));
            Assert.Equal("c3", (await resumed.RegisterAsync("cowboy-3").WaitAsync(Wait)).Cowboy);
            time.Advance(TimeSpan.FromSeconds(1));
            var next = await resumed.ShootAsync("c1", "cowboy-1").WaitAsync(Wait);

            // The same shot in an uninterrupted in-memory game picks the same target.
            var game = new ShootoutGame(config, 42);
            var store = new ShootoutStore(Db, "r1");
            foreach (var e in store.LoadEvents().Where(e => e.Seq < next.Report!.Seq)) game.Apply(e);
            store.Dispose();
            Assert.Equal(next.Report, game.Shoot("c1", "cowboy-1", time.GetUtcNow(), []).Report);
        }
    }

    [Fact]
    public async Task Runs_are_kept_apart_in_one_store()
    {
        var config = Configs.Many(2, 6, 1, TimeSpan.Zero);
        var time = new FakeTimeProvider();
        await using (var engine = Open(config, time, "r1"))
        {
            await RegisterAll(engine, 2);
            await engine.ShootAsync("c1", "cowboy-1").WaitAsync(Wait);
        }

        await using var other = GameEngine.Open(config, 42, Db, _dir.Combine("runs", "r2", "events.jsonl"), "r2", time, NullLogger.Instance);
        Assert.Equal("registering", other.Snapshot.Status);
        Assert.Equal(0, other.Snapshot.Seq);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Opening_a_run_drops_the_rows_of_runs_whose_folder_is_gone_and_writes_events_jsonl_private()
    {
        var config = Configs.Many(2, 6, 1, TimeSpan.Zero);
        var time = new FakeTimeProvider();
        foreach (var run in new[] { "r1", "r2" })
        {
            await using var engine = GameEngine.Open(config, 42, Db, _dir.Combine("runs", run, "events.jsonl"), run, time, NullLogger.Instance);
            await RegisterAll(engine, 2);
            await engine.ShootAsync("c1", "cowboy-1").WaitAsync(Wait);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.Combine("runs", "r1", "events.jsonl")));
        Directory.Delete(_dir.Combine("runs", "r1"), recursive: true);

        await using (GameEngine.Open(config, 42, Db, _dir.Combine("runs", "r3", "events.jsonl"), "r3", time, NullLogger.Instance))
        {
        }

        using var connection = new SqliteConnection($"Data Source={Db}");
        connection.Open();
        foreach (var table in new[] { "runs", "events", "registrations", "rounds" })
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT DISTINCT run_id FROM {table} ORDER BY run_id";
            using var reader = command.ExecuteReader();
            var runs = new List<string>();
            while (reader.Read()) runs.Add(reader.GetString(0));
            Assert.DoesNotContain("r1", runs);
            Assert.Contains("r2", runs);
        }
    }

    [Fact]
    public async Task Events_file_is_repaired_on_start()
    {
        var config = Configs.Many(4, 3, 1, TimeSpan.Zero);
        var time = new FakeTimeProvider();
        await using (var engine = Open(config, time))
        {
            await RegisterAll(engine, 4);
            for (var i = 0; i < 6; i++) await engine.ShootAsync($"c{1 + i % 4}", $"cowboy-{1 + i % 4}").WaitAsync(Wait);
        }

        var lines = File.ReadAllLines(Events);
        var total = lines.Length;
        Assert.True(total > 8);

        // A kill mid-write: the last three lines are lost and half a line is left.
        File.WriteAllText(Events, string.Join("\n", lines[..^3]) + "\n{\"kind\":\"shot\",\"seq\":");
        await using (var resumed = Open(config, time))
        {
            Assert.Equal(total, resumed.Snapshot.Seq);
        }

        var repaired = File.ReadAllLines(Events);
        Assert.Equal(lines, repaired);
        Assert.True(ShootoutChecker.CheckFile(Events).Passed);

        // A file deleted altogether is rebuilt from the store.
        File.Delete(Events);
        await using (Open(config, time))
        {
        }

        Assert.Equal(lines, File.ReadAllLines(Events));
    }

    [Fact]
    public async Task Intermission_ends_on_the_clock_and_the_finished_summary_counts_everything()
    {
        var config = Configs.Of(TimeSpan.Zero, rounds: 2, intermission: TimeSpan.FromSeconds(5), cowboys: [("A", 1, 1), ("B", 1, 1)]);
        var time = new FakeTimeProvider();
        await using var engine = Open(config, time);
        await RegisterAll(engine, 2);
        Assert.Equal("A", (await engine.ShootAsync("A", "cowboy-1").WaitAsync(Wait)).Report!.Winner);
        Assert.Equal("intermission", engine.Snapshot.Status);

        using var timeout = new CancellationTokenSource(Wait);
        await using var feed = engine.Feed.SubscribeAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var next = feed.MoveNextAsync();
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(await next);
        Assert.Equal((EventKinds.RoundStarted, 2), (feed.Current.Kind, feed.Current.Round));
        Assert.Equal("running", engine.Snapshot.Status);
        Assert.Equal("B", (await engine.ShootAsync("B", "cowboy-2").WaitAsync(Wait)).Report!.Winner);

        var summary = await engine.Finished.WaitAsync(Wait);
        Assert.Equal(["A", "B"], summary.Winners.Select(w => w.Winner));
        Assert.Equal(2, summary.ShotsFired);
        Assert.Equal(5000, summary.DurationMs);
        Assert.All(summary.Cowboys, c => Assert.Equal((1, 1L, 1L, 1L), (c.Wins, c.ShotsFired, c.DamageDealt, c.DamageTaken)));
        Assert.True(ShootoutChecker.CheckFile(Events).Passed);
    }
}

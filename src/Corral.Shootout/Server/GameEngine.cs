using Corral.Node.Storage;
using Corral.Shootout.Config;
using Corral.Shootout.Game;
using Corral.Shootout.Store;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Corral.Shootout.Server;

/// <summary>
/// The one writer of a game. Requests queue on a <see cref="GroupCommitWriter"/>; it takes every pending request
/// and, inside ONE transaction (group commit), applies each to the in-memory game in order and writes the events
/// it made; only after the commit are the requests answered, so a reply is never sent for a write that is not durable.
/// A failed commit leaves the in-memory game ahead of the store, so the engine then takes nothing more and
/// <see cref="Completion"/> faults: the server restarts from what was committed.
/// The store is the truth and the replies say what it committed; <c>events.jsonl</c> is derived from it: a
/// failed append leaves the file behind, and it is caught up from the store later (while the run goes on, when
/// the game finishes, at start and at stop). Readers see an immutable snapshot published after each commit.
/// </summary>
public sealed partial class GameEngine : IAsyncDisposable
{
    private const int MaxBatch = 1024;

    /// <summary>While <c>events.jsonl</c> is behind, a catch-up is tried at most this often (each one reads the store).</summary>
    internal static readonly TimeSpan CatchUpInterval = TimeSpan.FromSeconds(1);

    private readonly ShootoutGame _game;
    private readonly ShootoutStore _store;
    private readonly EventLog _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GroupCommitWriter _writer;
    private readonly List<GameEvent> _batchEvents = new(MaxBatch * 3);
    private readonly EncodedEvents _encoded = new();
    private readonly TaskCompletionSource<ShootoutSummary> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly bool _logShots;
    private volatile GameSnapshot _snapshot;
    private DateTimeOffset? _advanceScheduledFor;
    private DateTimeOffset _nextCatchUp;
    private int _disposed;

    private GameEngine(ShootoutGame game, ShootoutStore store, EventLog log, TimeProvider time, ILogger logger)
    {
        _game = game;
        _store = store;
        _log = log;
        _time = time;
        _logger = logger;

        // With tick 0 (benchmarks) a line per shot would make the console the bottleneck.
        _logShots = game.Config.Tick > TimeSpan.Zero;
        _snapshot = GameSnapshot.Of(game);
        _writer = new GroupCommitWriter(store.Connection, new GroupCommitOptions
        {
            MaxBatchWeight = MaxBatch,
            OnCommitted = _ => AfterCommit(),
            OnFailed = StoreFailed,
        });
    }

    internal GameSnapshot Snapshot => _snapshot;

    /// <summary>Batches committed and requests answered so far (the mean batch size tells how well group commit works).</summary>
    public long Batches => _writer.Batches;

    public long Requests => _writer.Writes;
    internal EventFeed Feed { get; } = new();
    public ShootoutConfig Config => _game.Config;

    /// <summary>Completes with the summary once the last round has a winner (at once for a resumed finished run).</summary>
    internal Task<ShootoutSummary> Finished => _finished.Task;

    /// <summary>Faults if the store fails: the in-memory game may then be ahead of the store, so the server must restart from it.</summary>
    public Task Completion => _writer.Completion;

    /// <summary>True while <c>events.jsonl</c> lacks events the store committed.</summary>
    public bool EventsFileBehind => _log.Behind;

    /// <summary>Transactions begun (committed or not): tests see the writer waiting for the lock.</summary>
    internal long CommitsStarted => _writer.BatchesStarted;

    /// <summary>Opens the store, replays the run's history, catches <c>events.jsonl</c> up with it and starts the writer loop.</summary>
    public static GameEngine Open(ShootoutConfig config, long seed, string databasePath, string eventsPath, string runId,
        TimeProvider time, ILogger logger, Durability durability = Durability.Fsync, TimeSpan? lockTimeout = null)
    {
        var store = new ShootoutStore(databasePath, runId, durability, lockTimeout);
        var log = new EventLog(eventsPath);
        try
        {
            // events.jsonl lives in the run's folder.
            store.DropPrunedRuns(Path.GetDirectoryName(Path.GetFullPath(eventsPath))!);
            var (runConfig, runSeed) = store.OpenRun(config, seed, time.GetUtcNow());
            var game = new ShootoutGame(runConfig, runSeed);
            var history = store.LoadEvents();
            foreach (var e in history) game.Apply(e);
            var engine = new GameEngine(game, store, log, time, logger);
            var repaired = engine.TryCatchUp(after => history.Where(e => e.Seq > after).ToArray());
            if (history.Count > 0) engine.LogResumed(runId, history.Count, game.Round, game.Status.ToString().ToLowerInvariant(), repaired);
            else engine.LogWaiting(string.Join(", ", runConfig.Cowboys.Select(c => $"{c.Name} ({c.Health}/{c.Damage})")));
            engine.AfterBatch();
            return engine;
        }
        catch
        {
            log.Dispose();
            store.Dispose();
            throw;
        }
    }

    public Task<RegisterOutcome> RegisterAsync(string nodeId) => Enqueue((game, now, events) => game.Register(nodeId, now, events));

    public Task<ShotOutcome> ShootAsync(string shooter, string nodeId) => Enqueue((game, now, events) => game.Shoot(shooter, nodeId, now, events));

    /// <summary>
    /// Queues a request: on the writer, inside the batch's transaction, the rule runs against the game and the events it
    /// made are written; the task completes after the commit. A rule that throws is a bug: that request fails, the others go on.
    /// </summary>
    private async Task<T> Enqueue<T>(Func<ShootoutGame, DateTimeOffset, List<GameEvent>, T> rule)
    {
        var outcome = await _writer.WriteAsync(_ =>
        {
            var first = _batchEvents.Count;
            try
            {
                return new RuleOutcome<T>(rule(_game, _time.GetUtcNow(), _batchEvents), null);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogCommandFailed(e);
                return new RuleOutcome<T>(default!, e);
            }
            finally
            {
                _store.Write(_batchEvents, first);
            }
        }, weight: 1).ConfigureAwait(false);
        if (outcome.Error is not null) throw outcome.Error;
        return outcome.Result;
    }

    /// <summary>On the writer, after a commit and before any reply: from here on the replies stand whatever happens to events.jsonl.</summary>
    private void AfterCommit()
    {
        if (_batchEvents.Count > 0)
        {
            AppendToEventsFile(_batchEvents, _encoded);
            _snapshot = GameSnapshot.Of(_game);
            Feed.Publish(_batchEvents);
            LogEvents(_batchEvents);
            AfterBatch();
        }

        _batchEvents.Clear();
    }

    /// <summary>
    /// Nothing of the batch is committed, but the in-memory game has applied it: only a restart from the store is right.
    /// Every request of the batch is told that nothing happened, and the engine takes nothing more.
    /// </summary>
    private void StoreFailed(Exception e)
    {
        LogStoreFailed(e);
        _batchEvents.Clear();
        _writer.Close(e);
    }

    /// <summary>Appends a committed batch to <c>events.jsonl</c>, or catches the file up when it is behind; never throws.</summary>
    private void AppendToEventsFile(List<GameEvent> events, EncodedEvents encoded)
    {
        if (!_log.Behind)
        {
            if (_log.TryAppend(encoded.Encode(events), out var error)) return;
            LogEventsFileBehind(_log.Path, error!.Message);
            _nextCatchUp = _time.GetUtcNow() + CatchUpInterval;
            return;
        }

        if (_time.GetUtcNow() >= _nextCatchUp) TryCatchUp(_store.LoadEvents);
    }

    /// <summary>Brings <c>events.jsonl</c> level with the store; on failure it stays behind until the next try. Returns the lines appended.</summary>
    private int TryCatchUp(Func<long, IReadOnlyList<GameEvent>> committedAfter)
    {
        var wasBehind = _nextCatchUp != default;
        try
        {
            var appended = _log.CatchUp(committedAfter, _game.LastSeq);
            if (wasBehind) LogEventsFileCaughtUp(_log.Path, appended);
            _nextCatchUp = default;
            return appended;
        }
        catch (Exception e)
        {
            // Whatever failed (the file, or reading the store back), the file is derived: it stays behind, and a
            // batch that is committed is still answered. A store that really broke fails the next commit.
            LogEventsFileStillBehind(_log.Path, e.Message);
            _nextCatchUp = _time.GetUtcNow() + CatchUpInterval;
            return 0;
        }
    }

    private void AfterBatch()
    {
        if (_game.Status == GameStatus.Finished)
        {
            // The outcome report makes the supervisor stop the run and `corral check` read the file: level it first.
            if (_log.Behind && !_finished.Task.IsCompleted) TryCatchUp(_store.LoadEvents);
            _finished.TrySetResult(ShootoutSummary.Of(_game));
        }
        else if (_game.Status == GameStatus.Intermission && _game.NextRoundAt is { } next && _advanceScheduledFor != next)
        {
            // Cowboys wait out the intermission; the next round starts on time even if nobody shoots.
            _advanceScheduledFor = next;
            _ = AdvanceLaterAsync(next - _time.GetUtcNow());
        }
    }

    private async Task AdvanceLaterAsync(TimeSpan delay)
    {
        try
        {
            if (delay > TimeSpan.Zero) await Task.Delay(delay, _time, _stopping.Token);
            await Enqueue((game, now, events) =>
            {
                game.Advance(now, events);
                return true;
            });
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or SqliteException)
        {
            // Stopping, or the store failed (the engine is going down and says so through Completion).
        }
    }

    private void LogEvents(List<GameEvent> events)
    {
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case EventKinds.Shot when _logShots:
                    LogShot(e.Shooter!, e.Target!, e.HealthBefore!.Value, e.HealthAfter!.Value);
                    break;
                case EventKinds.Shot:
                    LogShotQuiet(e.Shooter!, e.Target!, e.HealthBefore!.Value, e.HealthAfter!.Value);
                    break;
                case EventKinds.Death:
                    LogDeath(e.Cowboy!);
                    break;
                case EventKinds.Winner:
                    LogWinner(e.Cowboy!, e.Round);
                    break;
                case EventKinds.RoundStarted:
                    LogRoundStarted(e.Round, _game.Config.Rounds, string.Join(", ", (e.Cowboys ?? []).Select(c => $"{c.Name} ({c.Health})")));
                    break;
                case EventKinds.Registered:
                    LogRegistered(e.Cowboy!, e.Node!, _game.RegisteredCount, _game.Cowboys.Count);
                    break;
            }
        }
    }

    /// <summary>Answers what is queued, stops the loop and closes the files; safe to call twice (the host's container calls it too).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            await _writer.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or SqliteException or IOException)
        {
        }

        _stopping.Cancel();

        // The end of the run: whatever an append missed is written now, from the store.
        if (_log.Behind && _writer.Completion.IsCompletedSuccessfully) TryCatchUp(_store.LoadEvents);
        _log.Dispose();
        _store.Dispose();
        _stopping.Dispose();
    }

    /// <summary>What a rule returned, or the bug it threw: the batch commits either way, and only this request fails.</summary>
    private readonly record struct RuleOutcome<T>(T Result, Exception? Error);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Shooter} shot {Target} ({Before} → {After})")]
    private partial void LogShot(string shooter, string target, int before, int after);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Shooter} shot {Target} ({Before} → {After})")]
    private partial void LogShotQuiet(string shooter, string target, int before, int after);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Cowboy} is dead")]
    private partial void LogDeath(string cowboy);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Cowboy} wins round {Round}")]
    private partial void LogWinner(string cowboy, int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} of {Rounds} starts: {Cowboys}")]
    private partial void LogRoundStarted(int round, int rounds, string cowboys);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Cowboy} is node {Node} ({Registered} of {Expected} registered)")]
    private partial void LogRegistered(string cowboy, string node, int registered, int expected);

    [LoggerMessage(Level = LogLevel.Information, Message = "All cowboys expected for a new shootout: {Cowboys}; now waiting for registrations")]
    private partial void LogWaiting(string cowboys);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Resumed run {RunId} from the store: {Events} events, round {Round} {Status}; {Repaired} events re-appended to events.jsonl")]
    private partial void LogResumed(string runId, int events, int round, string status, int repaired);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not append to {Path} ({Error}); the shots stand in the store and the file will be caught up from it")]
    private partial void LogEventsFileBehind(string path, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path} is still behind the store ({Error}); trying again later")]
    private partial void LogEventsFileStillBehind(string path, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} caught up with the store ({Appended} events appended)")]
    private partial void LogEventsFileCaughtUp(string path, int appended);

    [LoggerMessage(Level = LogLevel.Error, Message = "A request failed inside the game rules")]
    private partial void LogCommandFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The store failed; the server stops so that a restart resumes from what was committed")]
    private partial void LogStoreFailed(Exception e);
}

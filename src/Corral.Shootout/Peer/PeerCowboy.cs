using System.Diagnostics;
using System.Text.Json;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Shootout.Checking;
using Corral.Shootout.Config;
using Corral.Shootout.Peer.Etcd;
using Corral.Shootout.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Shootout.Peer;

/// <summary>
/// A peer cowboy: binds its identity, announces itself under its lease, campaigns for leadership, and shoots once
/// per beat through etcd transactions. While it leads, it also starts rounds, keeps the beat, declares winners and,
/// after the last round, writes the history from etcd and reports <c>finished</c>. Leading changes nothing about how
/// it plays. It keeps going until the supervisor drains it.
/// </summary>
internal sealed partial class PeerCowboy(NodeContext context, ShootoutConfig config, PeerView view, ControlClient control,
    NodeReadiness readiness, ILogger<PeerCowboy> logger) : BackgroundService
{
    /// <summary>
    /// A dead process's presence and leadership go after about this long (etcd checks expiry twice a second), so a new
    /// leader follows within 3 s. A cluster with slow raft timings may raise it (etcd's minimum is 1.5 election timeouts).
    /// </summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(250);
    private readonly TimeProvider _time = context.Time;
    private readonly long _seed = config.Seed ?? context.Seed;
    private readonly ChangeSignal _changes = new();
    private string _me = "";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await PlayAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PlayAsync(CancellationToken ct)
    {
        using var etcd = config.Etcd is { } endpoints ? new EtcdStore(endpoints, time: _time) : EtcdStore.OverUnixSocket(await LocateEtcdAsync(ct), time: _time);
        var keys = new PeerKeys(context.RunId);
        var game = new PeerGame(etcd, keys, config, _seed, _time);
        var me = await RetryAsync(c => game.RegisterAsync(context.NodeId, c), ct);
        if (me is null)
        {
            throw new InvalidOperationException(
                $"every one of the {config.Cowboys.Count} identities is bound to another node; node {context.NodeId} has no cowboy to play");
        }

        _me = me;
        var first = await RetryAsync(game.ReadAsync, ct);
        var self = first.Find(me)!;
        LogRegistered(me, context.NodeId, self.Health, first.Round?.Round ?? 0, string.Join(',', etcd.Endpoints));
        view.Attach(etcd, game);
        readiness.MarkReady();

        var watching = Task.Run(() => WatchAsync(etcd, keys, first.Revision + 1, ct), ct);
        var leading = Task.Run(() => PresenceAndLeadershipAsync(etcd, game, ct), ct);
        await ShootAsync(game, ct);
        await Task.WhenAll(watching, leading);
    }

    /// <summary>Wakes waiters on every change but a shot's own writes (under <c>play/</c>), which every shot makes.</summary>
    private async Task WatchAsync(EtcdStore etcd, PeerKeys keys, long from, CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(keys.Signals.Select(range => Task.Run(async () =>
            {
                await foreach (var _ in etcd.WatchRangeAsync(range.From, range.To, from, ct)) _changes.Set();
            }, ct)));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Shoots as often as the rules allow. Each shot's transaction reads the game back, so the next attempt (after a hit
    /// or a conflict) acts on that state without a read of its own; only a state that allows no shot is read again, then
    /// waited on.
    /// </summary>
    private async Task ShootAsync(PeerGame game, CancellationToken ct)
    {
        var deadInRound = 0;
        var started = (Stopwatch?)null;
        PeerState? state = null;
        while (!ct.IsCancellationRequested)
        {
            var changed = _changes.Next;
            var fresh = state is null;
            ShotAttempt attempt;
            Game.GameEvent? shot;
            bool killed;
            try
            {
                state ??= await game.ReadAsync(ct);
                var self = state.Find(_me)!;
                if (state.Running && !self.Alive && deadInRound != state.Round!.Round)
                {
                    deadInRound = state.Round.Round;
                    LogDead(_me, deadInRound);
                }

                started ??= state.TargetOf(self, _seed) is null ? null : Stopwatch.StartNew();
                (attempt, shot, killed, state) = await game.ShootAsync(state, _me, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && EtcdStore.IsTransient(e))
            {
                LogEtcdAway(e.Message);
                state = null;
                await Task.Delay(Idle, _time, ct);
                continue;
            }

            switch (attempt)
            {
                case ShotAttempt.Hit:
                    view.Stats.Hit(started?.Elapsed ?? TimeSpan.Zero);
                    started = null;
                    if (config.Tick > TimeSpan.Zero)
                    {
                        LogShot(_me, shot!.Target!, shot.HealthBefore!.Value, shot.HealthAfter!.Value, shot.Beat ?? 0);
                        if (killed) LogKilled(_me, shot.Target!);
                    }

                    break;
                case ShotAttempt.Conflict:
                    view.Stats.Conflict();
                    break;
                default:
                    started = null;
                    // A change may have come between the transaction that gave this state and taking the signal: read
                    // again before waiting, so the wait starts from a state read after the signal was taken.
                    if (fresh) await ChangeSignal.WaitAsync(changed, Idle, _time, ct);
                    break;
            }
        }
    }

    /// <summary>
    /// Keeps a lease, the presence key under it and a campaign for leadership; a lost lease (etcd away longer than its
    /// TTL) costs presence and leadership, and both are taken up again under a new lease.
    /// </summary>
    private async Task PresenceAndLeadershipAsync(EtcdStore etcd, PeerGame game, CancellationToken ct)
    {
        var finished = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var lease = await LeaseKeeper.StartAsync(etcd, LeaseTtl, ct);
                await etcd.PutAsync(game.Keys.Presence(_me), context.NodeId, ct, lease.Id);
                using var term = CancellationTokenSource.CreateLinkedTokenSource(ct);
                _ = lease.Lost.ContinueWith(_ => term.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                if (!finished)
                {
                    await etcd.CampaignAsync(game.Keys.Election, lease.Id, _me, term.Token);
                    LogLeading(_me);
                    finished = await LeadAsync(etcd, game, term.Token);
                }

                await Task.WhenAny(lease.Lost, Task.Delay(Timeout.Infinite, ct));
                if (lease.Lost.IsCompleted) LogLeaseLost(await lease.Lost);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && (EtcdStore.IsTransient(e) || e is Grpc.Core.RpcException))
            {
                LogEtcdAway(e.Message);
                await Task.Delay(Idle, _time, ct);
            }
        }
    }

    /// <summary>Drives the game while this cowboy leads; true once the last round is won and reported.</summary>
    private async Task<bool> LeadAsync(EtcdStore etcd, PeerGame game, CancellationToken ct)
    {
        var nextBeat = _time.GetUtcNow() + config.Tick;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var changed = _changes.Next;
            var state = await game.ReadAsync(ct);
            var now = _time.GetUtcNow();
            if (state.Finished)
            {
                await FinishAsync(etcd, game, ct);
                return true;
            }

            if (state.Round is null)
            {
                if (state.Registered == config.Cowboys.Count && await game.StartRoundAsync(state, 1, ct)) LogRoundStarted(1);
            }
            else if (state.SoleSurvivor() is { } winner)
            {
                if (await game.DeclareWinnerAsync(state, winner, ct)) LogWinner(winner.Spec.Name, state.Round.Round);
                continue;
            }
            else if (state.Running && config.Tick > TimeSpan.Zero && now >= nextBeat)
            {
                await game.BeatAsync(state, ct);
                nextBeat = now + config.Tick;
            }
            else if (state.Round is { Over: true, EndedAt: { } ended } over && now >= ended + config.Intermission)
            {
                if (await game.StartRoundAsync(state, over.Round + 1, ct)) LogRoundStarted(over.Round + 1);
                continue;
            }

            var wait = config.Tick > TimeSpan.Zero ? nextBeat - now : Idle;
            if (state.Round is { Over: true, EndedAt: { } end }) wait = end + config.Intermission - now;
            await ChangeSignal.WaitAsync(changed, wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait > Idle ? Idle : wait, _time, ct);
        }
    }

    /// <summary>Writes the history from etcd's revisions as <c>events.jsonl</c> (before etcd stops), then reports the outcome.</summary>
    private async Task FinishAsync(EtcdStore etcd, PeerGame game, CancellationToken ct)
    {
        var events = await PeerHistory.ReadAsync(etcd, game.Keys, ct);
        var path = Path.Combine(context.RunDirectory, ShootoutChecker.EventsFile);
        PeerHistory.Write(path, events);
        var summary = ShootoutSummary.Of(PeerHistory.Fold(config, _seed, events));
        LogFinished(events.Count, path, string.Join(", ", summary.Winners.Select(w => $"round {w.Round}: {w.Winner}")));
        await control.ReportFinishedAsync(new RunOutcome(true, JsonSerializer.SerializeToElement(summary, ShootoutJson.Default.ShootoutSummary)), ct);
    }

    /// <summary>The run's managed etcd's socket, once the supervisor lists that etcd as a member (it is ready).</summary>
    private async Task<string> LocateEtcdAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var members = await control.GetMembershipAsync(ct);
                if (members.OfRole(PeerPlan.EtcdRole).Any()) return PeerPlan.EtcdSocket(context.DataDirectory, context.RunDirectory);
                LogNoEtcd();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                LogEtcdAway(e.Message);
            }

            await Task.Delay(Idle, _time, ct);
        }
    }

    /// <summary>Retries a call while etcd is unreachable, for up to a minute, then lets the node fail (and be restarted).</summary>
    private async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var until = _time.GetUtcNow() + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                return await call(ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && EtcdStore.IsTransient(e) && _time.GetUtcNow() < until)
            {
                LogEtcdAway(e.Message);
                await Task.Delay(Idle, _time, ct);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "I, {Me}, am node {Node}'s cowboy (health {Health}, round {Round}); etcd at {Endpoints}")]
    private partial void LogRegistered(string me, string node, int health, int round, string endpoints);

    [LoggerMessage(Level = LogLevel.Information, Message = "I, {Me}, just shot {Target} ({Before} → {After}) in beat {Beat}")]
    private partial void LogShot(string me, string target, int before, int after, long beat);

    [LoggerMessage(Level = LogLevel.Information, Message = "I, {Me}, killed {Target}")]
    private partial void LogKilled(string me, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "Oh no, I, {Me}, am dead until round {Round} is over")]
    private partial void LogDead(string me, int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "I, {Me}, lead now: I keep the beat and declare winners")]
    private partial void LogLeading(string me);

    [LoggerMessage(Level = LogLevel.Information, Message = "Round {Round} started")]
    private partial void LogRoundStarted(int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "Last man standing is {Winner}: round {Round} is won")]
    private partial void LogWinner(string winner, int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "The shootout is over ({Winners}); {Events} events from etcd written to {Path}; reporting to the supervisor")]
    private partial void LogFinished(int events, string path, string winners);

    [LoggerMessage(Level = LogLevel.Warning, Message = "My lease is gone ({Reason}); announcing myself again under a new one")]
    private partial void LogLeaseLost(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd is away: {Error}; retrying")]
    private partial void LogEtcdAway(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "No etcd in the membership yet; retrying")]
    private partial void LogNoEtcd();

}

using System.Net;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Node.Randomness;
using Corral.Node.Resilience;
using Corral.Shootout.Config;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Shootout.Cowboy;

/// <summary>
/// Where a cowboy finds its server (<c>--server URL</c>, else the control API's membership), and how long it
/// keeps retrying while the server is away before it gives up and exits non-zero (the supervisor restarts it).
/// </summary>
internal sealed record CowboyOptions(Uri? Server, TimeSpan? RetryBudget = null)
{
    public static readonly TimeSpan DefaultRetryBudget = TimeSpan.FromMinutes(2);

    public TimeSpan Budget => RetryBudget ?? DefaultRetryBudget;
}

/// <summary>
/// A cowboy: registers (with back-off and a budget while the server is away), then fires once per tick
/// with its own seeded jitter, waits out death and intermissions by watching the state, and keeps going
/// until the supervisor drains it. Damage is never computed here: the server answers what happened.
/// </summary>
internal sealed partial class CowboyLoop(NodeContext context, ShootoutConfig config, CowboyOptions options, ControlClient control,
    NodeReadiness readiness, ILogger<CowboyLoop> logger) : BackgroundService
{
    private static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(50);
    private readonly TimeProvider _time = context.Time;
    private readonly long _seed = config.Seed ?? context.Seed;
    private readonly BackoffOptions _retry = new() { Initial = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromSeconds(2), Budget = options.Budget };
    private readonly SeededRandom _pauses = new(config.Seed ?? context.Seed, context.NodeId);
    private long _waits;
    private int _failures;

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
        var trouble = new Backoff(_retry, _time, new SeededRandom(_seed, $"{context.NodeId}/retry"));
        ShootoutClient? client = null;
        string? me = null;
        var deadInRound = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    client ??= new ShootoutClient(await LocateServerAsync(ct), context.Token, context.NodeId);
                    if (me is null)
                    {
                        var registered = await client.RegisterAsync(ct);
                        if (!registered.Ok)
                        {
                            LogRefused("register", (int)registered.Status, registered.Detail ?? "");
                            if (!await trouble.WaitAsync(ct)) throw new TimeoutException("could not register within the budget");
                            continue;
                        }

                        me = registered.Value!.Cowboy;
                        trouble.Reset();
                        readiness.MarkReady();
                        LogRegistered(me, registered.Value.Health, registered.Value.State.Round);
                        if (!registered.Value.Alive) deadInRound = registered.Value.State.Round;
                    }

                    if (deadInRound > 0)
                    {
                        // Dead until the next round: watch the state instead of shooting.
                        var state = await client.GetStateAsync(ct);
                        if (state.Ok && state.Value!.Round > deadInRound && state.Value.Status == "running") deadInRound = 0;
                        else await PauseAsync(null, ct, waiting: true);
                        trouble.Reset();
                        continue;
                    }

                    var shot = await client.ShootAsync(me, ct);
                    trouble.Reset();
                    _failures = 0;
                    if (shot.Ok)
                    {
                        var r = shot.Value!;
                        LogShot(me, r.Target, r.TargetHealthBefore, r.TargetHealthAfter);
                        if (r.Killed) LogKilled(me, r.Target);
                        if (r.Winner == me) LogWon(me, r.Round);
                        await PauseAsync(null, ct);
                        continue;
                    }

                    switch (shot.Status, shot.Reason)
                    {
                        case (HttpStatusCode.Conflict, "shooter-dead"):
                            deadInRound = shot.Round ?? 1;
                            LogDead(me);
                            break;
                        case (HttpStatusCode.Forbidden, _):
                            LogRefused("shoot", 403, shot.Detail ?? "");
                            me = null;
                            break;
                        case ((HttpStatusCode)429, _) or (HttpStatusCode.Conflict, _):
                            await PauseAsync(shot.RetryAfter, ct, waiting: true);
                            break;
                        default:
                            LogRefused("shoot", (int)shot.Status, shot.Detail ?? "");
                            if (!await trouble.WaitAsync(ct)) throw new TimeoutException("the server kept failing");
                            break;
                    }
                }
                catch (HttpRequestException e)
                {
                    LogServerAway(e.Message);
                    if (++_failures % 3 == 0 && options.Server is null)
                    {
                        // The server may have come back on another port (dynamic ports): ask the membership again.
                        client?.Dispose();
                        client = null;
                    }

                    if (!await trouble.WaitAsync(ct)) throw new TimeoutException($"the server stayed away for {options.Budget.TotalSeconds:0} s");
                }
            }
        }
        finally
        {
            client?.Dispose();
        }
    }

    /// <summary>
    /// Waits about a tick: between 0.9 and 1.2 ticks, from (seed, node, wait number), never shared randomness.
    /// With tick 0 a live cowboy fires again at once; one that is waiting (dead, between rounds, game over) still pauses.
    /// </summary>
    private Task PauseAsync(TimeSpan? retryAfter, CancellationToken ct, bool waiting = false)
    {
        var jitter = _pauses.UnitAt(_waits++);
        var wait = config.Tick * (0.9 + 0.3 * jitter);
        if (retryAfter is { } after && after > wait) wait = after;
        if (waiting && wait < MinimumWait) wait = MinimumWait;
        return wait <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, _time, ct);
    }

    private async Task<Uri> LocateServerAsync(CancellationToken ct)
    {
        if (options.Server is { } server) return server;
        var backoff = new Backoff(_retry, _time, new SeededRandom(_seed, $"{context.NodeId}/locate"));
        while (true)
        {
            try
            {
                var members = await control.GetMembershipAsync(ct);
                var found = members.OfRole(ShootoutPlan.ServerRole).FirstOrDefault();
                if (found is not null && found.Urls.TryGetValue("http", out var url)) return new Uri(url);
                LogNoServer();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                LogServerAway(e.Message);
            }

            if (!await backoff.WaitAsync(ct)) throw new TimeoutException("the control API named no game server within the budget");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "I, {Me}, have registered (health {Health}, round {Round})")]
    private partial void LogRegistered(string me, int health, int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "I, {Me}, just shot {Target} ({Before} → {After})")]
    private partial void LogShot(string me, string target, int before, int after);

    [LoggerMessage(Level = LogLevel.Information, Message = "I, {Me}, killed {Target}")]
    private partial void LogKilled(string me, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "Oh yeah, I, {Me}, won round {Round}")]
    private partial void LogWon(string me, int round);

    [LoggerMessage(Level = LogLevel.Information, Message = "Oh no, I, {Me}, am dead until the next round")]
    private partial void LogDead(string me);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server refused {Action} ({Status}): {Detail}")]
    private partial void LogRefused(string action, int status, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The game server is away: {Error}; retrying with back-off")]
    private partial void LogServerAway(string error);


    [LoggerMessage(Level = LogLevel.Information, Message = "No game server in the membership yet; retrying")]
    private partial void LogNoServer();
}

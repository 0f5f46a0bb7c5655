using System.Text.Json.Nodes;
using Corral.Balancer.Config;
using Corral.Balancer.Store;
using Corral.Node.Http;
using Corral.Node.Security;
using Corral.Node.Nodes;
using Corral.Node.Randomness;
using Corral.Node.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Corral.Balancer.Worker;

/// <summary>The worker's behaviour, shared by its service and admin listeners: hello, faults, statistics.</summary>
internal sealed class WorkerApp
{
    private readonly NodeContext _context;
    private readonly FailureSchedule _schedule;
    private readonly SeededRandom _random;
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private long _requests;
    private long _savedVersion = -1;
    private FaultSettings _faults;

    public WorkerApp(NodeContext context, BalancerConfig config, WorkerStatsStore store, WorkerStatsRow? restored)
    {
        _context = context;
        Store = store;
        Stats = new WorkerStats(context.NodeId, restored);
        // A restarted worker carries on numbering where its stored row ends, so its failure schedule continues too.
        _requests = restored?.Total ?? 0;
        _random = new SeededRandom(context.Seed, context.NodeId);
        _schedule = new FailureSchedule(_random);
        _faults = new FaultSettings { AvgDelay = config.AvgDelay, FailurePercent = config.FailurePercent };
    }

    public WorkerStats Stats { get; }
    public WorkerStatsStore Store { get; }
    public FaultSettings Faults => Volatile.Read(ref _faults);

    /// <summary>Raised after the faults change, so the host can close or reopen the service listener.</summary>
    public event Func<FaultSettings, Task>? FaultsChanged;

    public async Task SetFaultsAsync(FaultSettings faults)
    {
        Volatile.Write(ref _faults, faults);
        if (FaultsChanged is { } changed) await changed(faults);
    }

    /// <summary>Writes the worker's row if anything changed since the last write.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _flushLock.WaitAsync(cancellationToken);
        try
        {
            var (row, version) = Stats.Snapshot(_context.Time.GetUtcNow());
            if (version == _savedVersion) return;
            await Store.SaveAsync(row, cancellationToken);
            _savedVersion = version;
        }
        finally
        {
            _flushLock.Release();
        }
    }

    public async Task HelloAsync(HttpContext http)
    {
        var time = _context.Time;
        var started = time.GetTimestamp();
        var number = Interlocked.Increment(ref _requests);
        var faults = Faults;
        try
        {
            if (_schedule.Fails(number, faults.FailurePercent))
            {
                http.Response.StatusCode = StatusCodes.Status500InternalServerError;
                http.Response.ContentType = "text/plain; charset=utf-8";
                await http.Response.WriteAsync("Randomized Server Error", http.RequestAborted);
                Stats.Record(false, Micros(time.GetElapsedTime(started)));
                return;
            }

            var delay = faults.AvgDelay * (0.5 + _random.UnitAt(number, stream: 1));
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, time, http.RequestAborted);
            }

            await http.Response.WriteAsJsonAsync(new HelloReply($"hello from worker {_context.NodeId}"), BalancerJson.Default.HelloReply, cancellationToken: http.RequestAborted);
            Stats.Record(true, Micros(time.GetElapsedTime(started)));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client left before an answer: the request was not served, so it is not counted either way.
        }
    }

    private static long Micros(TimeSpan elapsed) => (long)(elapsed.Ticks / 10.0);

    /// <summary>002's shape: arrays of single-key objects, total first; the total mean weighted by requests (not 002's mean of last latencies).</summary>
    public async Task<JsonObject> OriginalStatsAsync(CancellationToken cancellationToken)
    {
        var rows = await AllRowsAsync(null, cancellationToken);
        // Typed as JsonNode: JsonArray.Add<T> would pick the generic overload, which needs reflection.
        static JsonNode Cell(string key, JsonNode value) => new JsonObject { [key] = value };
        var successful = new JsonArray { Cell("total", rows.Sum(r => r.Successful)) };
        var failed = new JsonArray { Cell("total", rows.Sum(r => r.Failed)) };
        var total = new JsonArray { Cell("total", rows.Sum(r => r.Total)) };
        var requests = rows.Sum(r => r.Total);
        var mean = new JsonArray { Cell("total", requests == 0 ? 0 : rows.Sum(r => r.LatencySumMicros) / 1000.0 / requests) };
        foreach (var row in rows)
        {
            successful.Add(Cell(row.WorkerId, row.Successful));
            failed.Add(Cell(row.WorkerId, row.Failed));
            total.Add(Cell(row.WorkerId, row.Total));
            mean.Add(Cell(row.WorkerId, row.MeanMs));
        }

        return new JsonObject
        {
            ["SuccessfulRequests"] = successful,
            ["FailedRequests"] = failed,
            ["TotalRequests"] = total,
            ["AverageResponseTime"] = mean,
        };
    }

    /// <summary>Every worker's row of a run (this one by default), with this worker's own row written first so it is current.</summary>
    public async Task<IReadOnlyList<WorkerStatsRow>> AllRowsAsync(string? runId, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        return await Store.LoadAllAsync(runId, cancellationToken);
    }

    public void MapService(IEndpointRouteBuilder routes)
    {
        // The balancers' traffic: what a client sent through a balancer, of any content type (002's hello took any).
        routes.Map("/api/v1/hello", HelloAsync).AcceptAnyContentType();
        routes.Map("/ws/echo", WebSocketEcho.HandleAsync).AcceptAnyContentType();
        MapStats(routes);
    }

    public void MapAdmin(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/faults", () => TypedResults.Ok(ViewOf(Faults)));
        routes.MapPut("/faults", async (HttpRequest request) =>
        {
            var (body, problem) = await JsonBody.ReadAsync(request, BalancerJson.Default.FaultsRequest);
            if (problem is not null) return (IResult)problem;
            var (next, error) = body!.ApplyTo(Faults);
            if (error is not null) return JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid faults", error);
            await SetFaultsAsync(next!);
            return TypedResults.Ok(ViewOf(next!));
        }).RequireCaller(_context.Credentials, Credential.OperatorRole, BalancerPlan.BalancerRole);
        MapStats(routes);
    }

    private void MapStats(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/worker/stats", async (CancellationToken ct) => TypedResults.Json(await OriginalStatsAsync(ct), BalancerJson.Default.JsonObject));
        // This run's statistics, or an earlier run's with ?run=ID (the store keeps every run's rows).
        routes.MapGet("/stats", async Task<Results<Ok<WorkerStatsView>, ProblemHttpResult>> (string? run, CancellationToken ct) =>
        {
            var runId = string.IsNullOrWhiteSpace(run) ? _context.RunId : run.Trim();
            var rows = await AllRowsAsync(runId, ct);
            if (rows.Count == 0 && runId != _context.RunId)
            {
                var runs = await Store.RunsAsync(ct);
                return JsonBody.Problem(StatusCodes.Status404NotFound, "Unknown run",
                    $"the statistics store has no rows of run '{runId}'; it has {(runs.Count == 0 ? "none" : string.Join(", ", runs.Take(20)))}");
            }

            var requests = rows.Sum(r => r.Total);
            return TypedResults.Ok(new WorkerStatsView(runId,
                new WorkerStatsTotal(rows.Sum(r => r.Successful), rows.Sum(r => r.Failed), requests,
                    requests == 0 ? 0 : rows.Sum(r => r.LatencySumMicros) / 1000.0 / requests),
                rows.Select(r => new WorkerStatsLine(r.WorkerId, r.Successful, r.Failed, r.Total, r.MeanMs, r.P50Ms, r.P99Ms, r.UpdatedAt)).ToArray()));
        });
    }

    private static FaultsView ViewOf(FaultSettings faults) => new(
        Durations.Format(faults.AvgDelay), faults.FailurePercent, faults.Outage.ToString().ToLowerInvariant());
}

/// <summary>A worker's answer to <c>/api/v1/hello</c>.</summary>
internal sealed record HelloReply(string Message);

/// <summary>What <c>GET/PUT /faults</c> answers: the worker's fault settings now.</summary>
internal sealed record FaultsView(string AvgDelay, double Failure, string Outage);

/// <summary>What a worker's <c>GET /stats</c> answers: totals over every worker's row, then each row.</summary>
internal sealed record WorkerStatsView(string Run, WorkerStatsTotal Total, IReadOnlyList<WorkerStatsLine> Workers);

/// <summary>The totals of <see cref="WorkerStatsView"/>.</summary>
internal sealed record WorkerStatsTotal(long Successful, long Failed, long Total, double MeanMs);

/// <summary>One worker's row in <see cref="WorkerStatsView"/>.</summary>
internal sealed record WorkerStatsLine(string WorkerId, long Successful, long Failed, long Total, double MeanMs, double P50Ms, double P99Ms,
    DateTimeOffset UpdatedAt);

using System.Diagnostics;
using Corral.WorkQueue.Store;
using Corral.WorkQueue.Worker;

/// <summary>
/// One worker slot as a real worker runs it: the first claim on its own, then each report brings the next claim (one
/// request per task), until the queue is empty; each request's latency in milliseconds goes to <paramref name="latencies"/>.
/// </summary>
internal static class ClaimLoop
{
    private static readonly RunResult Noop = new(AttemptResult.Passed, 0, 0, "");

    public static async Task RunAsync(QueueClient client, List<double> latencies)
    {
        var started = Stopwatch.GetTimestamp();
        var reply = await client.ClaimAsync(CancellationToken.None);
        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        while (reply.Task is { } task)
        {
            started = Stopwatch.GetTimestamp();
            (_, var next) = await client.CompleteAndClaimAsync(task, Noop, claimNext: true, CancellationToken.None);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            reply = next!;
        }
    }
}

using Corral.Node.Control;
using Microsoft.Extensions.Time.Testing;

namespace Corral.Node.Tests.Control;

public sealed class ControlPlaneWatchTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();

    /// <summary>
    /// Runs a watch whose calls answer only at the seconds in <paramref name="answersAt"/>, moving the clock one interval
    /// after each call, until the watch gives up; returns what it reported and the second of every call.
    /// </summary>
    private async Task<(ControlPlaneLost Lost, List<int> Asks)> RunAsync(params int[] answersAt)
    {
        var start = _time.GetUtcNow();
        var asks = new List<int>();
        var asked = new SemaphoreSlim(0);
        var watch = new ControlPlaneWatch(_ =>
        {
            var second = (int)(_time.GetUtcNow() - start).TotalSeconds;
            lock (asks) asks.Add(second);
            asked.Release();
            return answersAt.Contains(second) ? Task.CompletedTask : throw new HttpRequestException("Connection refused (10.9.0.1:7999)");
        }, new ControlPlaneWatchOptions { Grace = Grace, Interval = TimeSpan.FromSeconds(1) }, _time);

        var watching = Task.Run(() => watch.WaitLostAsync(CancellationToken.None));
        while (true)
        {
            await Task.WhenAny(asked.WaitAsync(), watching).WaitAsync(Bound);
            if (watching.IsCompleted) break;
            Assert.True(asks.Count < 100, "the watch never gave up");
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var lost = await watching;
        lock (asks) return (lost, asks.ToList());
    }

    [Fact]
    public async Task A_control_plane_that_never_answers_is_lost_at_the_first_failed_call_a_full_grace_after_the_start()
    {
        var (lost, asks) = await RunAsync();

        Assert.Equal(Enumerable.Range(0, 11), asks);
        Assert.Equal(Grace, lost.Silence);
        Assert.Contains("Connection refused", lost.LastError);
    }

    [Fact]
    public async Task An_answer_within_the_grace_restarts_the_clock()
    {
        var (lost, asks) = await RunAsync(answersAt: [4, 9]);

        // Silent from 0 to 4 and 4 to 9 (under the grace each time), then lost at 19: ten seconds after the last answer.
        Assert.Equal(19, asks[^1]);
        Assert.Equal(Grace, lost.Silence);
    }

    [Fact]
    public async Task A_watch_whose_calls_answer_never_reports_a_loss_and_ends_when_cancelled()
    {
        var asks = 0;
        var watch = new ControlPlaneWatch(_ =>
        {
            Interlocked.Increment(ref asks);
            return Task.CompletedTask;
        }, new ControlPlaneWatchOptions { Grace = Grace }, _time);
        using var cancel = new CancellationTokenSource();

        var watching = Task.Run(() => watch.WaitLostAsync(cancel.Token));
        for (var i = 0; i < 30; i++)
        {
            await Eventually.TrueAsync(() => Volatile.Read(ref asks) > i, Bound, $"call {i + 1}");
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.False(watching.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching.WaitAsync(Bound));
    }
}

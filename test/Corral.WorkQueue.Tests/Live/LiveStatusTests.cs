using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Live;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Tests.Live;

/// <summary>The terminal's footer: a bar filled in proportion to the final tasks, the counts, the estimate and what runs where.</summary>
public sealed class LiveStatusTests
{
    [Fact]
    public void The_footer_shows_a_bar_the_counts_the_estimate_and_the_running_tasks()
    {
        static TaskView Task(int i, TaskState state, string? worker = null) => new()
        {
            Key = $"task:g:{i}", Group = "g", Spec = "s", Viewport = "desktop", Browser = "chrome", Status = "x", Result = "x", State = state, Worker = worker,
        };
        var document = new ResultsDocument("run-1", new ProgressView
        {
            Total = 4, Done = 2, Passed = 1, Flaky = 1, Running = 1, Waiting = 1, ElapsedMs = 65_000, EstimatedRemainingMs = 2_500,
        }, [Task(0, TaskState.Passed), Task(1, TaskState.Flaky), Task(2, TaskState.Running, "worker-2"), Task(3, TaskState.Waiting)]);

        var lines = WorkQueueLiveStatus.Render(document);

        Assert.Equal("[" + new string('#', 15) + new string('.', 15) + "] 2/4 final · 1 passed · 1 flaky · 0 failed · 0 error · elapsed 1m5s · about 3s left", lines[0]);
        Assert.Equal("running: task:g:2 (worker-2)", lines[1]);
    }
}

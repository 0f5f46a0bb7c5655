using System.Collections.Concurrent;
using Corral.Node.Nodes;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;
using Corral.WorkQueue.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.WorkQueue.Tests.Worker;

/// <summary>A worker checks a claimed task again before it becomes a path or an argument: a bad one is reported, not run.</summary>
public sealed class ClaimedTaskCheckTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static readonly TaskDefinition Good = new()
    {
        Key = "task:g:0", Group = "g", Index = 0, Ordinal = 0, Spec = "login/form.spec.ts", Viewport = "desktop", Browser = "chrome",
    };

    private static WorkQueueConfig Config(string root, params string[] command) => new()
    {
        SpecList = Path.Combine(root, "map.json"), SpecRoot = root, Command = command.Length > 0 ? command : ["npx", "playwright", "test", "{spec}", "--project={project}"],
        Tasks = [Good],
    };

    [Fact]
    public void A_task_as_the_config_reader_makes_it_passes() =>
        Assert.Null(ClaimedTaskCheck.Problem(new ClaimedTask(Good, 1, 0, "run", 1000), Config("/specs")));

    [Theory]
    [InlineData("key", "../../etc/cron.d/x", "not a plain name")]
    [InlineData("key", "task\\g\\0", "not a plain name")]
    [InlineData("key", "..", "not a plain name")]
    [InlineData("key", "task:g:0\n", "control character")]
    [InlineData("key", "", "empty")]
    [InlineData("spec", "../outside.spec.ts", "not a path inside the spec root")]
    [InlineData("spec", "a/../../outside.spec.ts", "not a path inside the spec root")]
    [InlineData("spec", "/etc/passwd", "not a path inside the spec root")]
    [InlineData("spec", "--config=/tmp/evil.js", "would start with '-'")]
    [InlineData("spec", "x.spec.ts\u001b[31m", "control character")]
    [InlineData("browser", "chrome\r", "control character")]
    [InlineData("viewport", "-desktop", "")]
    public void A_tampered_task_is_refused_with_the_reason(string field, string value, string reason)
    {
        var task = field switch
        {
            "key" => Good with { Key = value },
            "spec" => Good with { Spec = value },
            "browser" => Good with { Browser = value },
            _ => Good with { Viewport = value },
        };

        var problem = ClaimedTaskCheck.Problem(new ClaimedTask(task, 1, 0, "run", 1000), Config("/specs", "runner", "{viewport}", "{spec}", "--browser={browser}"));

        Assert.NotNull(problem);
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void An_option_the_operator_wrote_may_start_with_a_dash() =>
        Assert.Null(ClaimedTaskCheck.Problem(new ClaimedTask(Good with { Browser = "-x" }, 1, 0, "run", 1000), Config("/specs", "runner", "--browser={browser}")));

    [Fact]
    public async Task A_worker_reports_a_tampered_task_as_an_error_not_run_and_runs_the_good_one()
    {
        using var folder = new TempFolder();
        await using var control = await ControlApiStub.StartAsync();
        var context = control.Context("controller", WorkQueuePlan.ControllerRole, folder.Path);
        // The controller's tasks stand for what a tampered store would hand out: the config reader never made them.
        var config = Config(folder.Path, "runner", "{spec}") with
        {
            Workers = 1, Retries = 0, Lease = TimeSpan.FromSeconds(30),
            Tasks = [Good, Good with { Key = "task:g:1", Index = 1, Ordinal = 1, Spec = "-rf" }],
        };
        await using var store = SqliteTaskStore.Open(folder.Combine("workqueue.db"), context.RunId, ControllerNode.Rules(config));
        await using var controller = ControllerNode.Build(context, config, store);
        await controller.Services.GetRequiredService<QueueService>().StartAsync();
        await controller.StartAsync();

        var runner = new RecordingRunner();
        await using var worker = WorkerNode.Build(control.Context("worker-1", WorkQueuePlan.WorkerRole, folder.Path), config, runner,
            new Uri($"http://127.0.0.1:{controller.BoundPort()}/"));
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        worker.Lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());
        await worker.StartAsync();
        await stopped.Task.WaitAsync(Bound);

        Assert.Equal(["task:g:0"], runner.Keys);
        var tasks = (await store.ListAsync()).ToDictionary(t => t.Task.Key);
        Assert.Equal(TaskState.Passed, tasks["task:g:0"].State);
        Assert.Equal(TaskState.Error, tasks["task:g:1"].State);
        Assert.StartsWith("[corral] not run: argument 2 ('{spec}') would start with '-'", tasks["task:g:1"].OutputTail);
        await worker.StopAsync();
        await controller.StopAsync();
    }

    private sealed class RecordingRunner : ISpecRunner
    {
        private readonly ConcurrentQueue<string> _keys = new();

        public string[] Keys => _keys.ToArray();

        public Task<RunResult> RunAsync(ClaimedTask task, CancellationToken cancellationToken)
        {
            _keys.Enqueue(task.Task.Key);
            return Task.FromResult(new RunResult(AttemptResult.Passed, 0, 1, ""));
        }
    }
}

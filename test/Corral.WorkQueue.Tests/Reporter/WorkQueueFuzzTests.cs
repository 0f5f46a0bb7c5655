using Corral.Testing.Fuzz;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;
using Corral.WorkQueue.Worker;

namespace Corral.WorkQueue.Tests.Reporter;

/// <summary>
/// Every route of the controller (the queue API and the reporter's page, results and events) and of a worker under
/// seeded fuzz: 4xx for what is wrong, never a 5xx, still live after.
/// </summary>
public sealed class WorkQueueFuzzTests
{
    private static readonly string[] Bodies =
    [
        """{"worker":"worker-1"}""",
        """{"key":"task:g:0","attempt":1,"worker":"worker-1"}""",
        """{"key":"task:g:1","attempt":1,"worker":"worker-1","result":"passed","exitCode":0,"durationMs":1500}""",
        """{"key":"task:g:2","attempt":1,"worker":"worker-2","result":"failed","exitCode":1,"durationMs":10,"outputTail":"\u001b[31mred\u001b[0m"}""",
    ];

    [Fact]
    public async Task The_controllers_and_a_workers_routes_answer_every_fuzzed_request_without_a_5xx()
    {
        await using var controller = await ControllerHarness.StartAsync(tasks: 20);
        (await HttpFuzz.RunAsync(FuzzTarget.Of("workqueue.controller", controller.App) with
        {
            SampleBodies = Bodies, SampleValues = ["task:g:0", "worker-1", "run-1"],
            // A worker's credential, so claims and reports reach the queue (the operator's would stop at 403).
            Token = TestNodeContext.CredentialOf("worker-1", WorkQueuePlan.WorkerRole),
        }, seed: 4001, count: 1000)).AssertClean();

        // A worker whose specs never end: it holds its claim and stays up while its own routes are fuzzed.
        await using var worker = WorkerNode.Build(controller.Context("worker-1", WorkQueuePlan.WorkerRole), controller.Config, new EndlessRunner(), controller.Url);
        await worker.StartAsync();
        (await HttpFuzz.RunAsync(FuzzTarget.Of("workqueue.worker", worker), seed: 4002, count: 600)).AssertClean();
        await worker.StopAsync();
    }

    private sealed class EndlessRunner : ISpecRunner
    {
        public async Task<RunResult> RunAsync(ClaimedTask task, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new OperationCanceledException(cancellationToken);
        }
    }
}

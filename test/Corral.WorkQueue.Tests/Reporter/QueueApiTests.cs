using System.Net;
using System.Net.Http.Json;
using System.Text;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Tests.Reporter;

/// <summary>The controller's HTTP API on a real port: the worker endpoints want the token and a well-formed body; the reporter's are open.</summary>
public sealed class QueueApiTests
{
    [Fact]
    public async Task Claim_complete_and_the_results_api_follow_the_queue_and_a_late_report_is_a_409()
    {
        await using var controller = await ControllerHarness.StartAsync(tasks: 2);

        var claim = (await controller.ClaimAsync("worker-1")).Task!;
        Assert.Equal(("task:g:0", 1), (claim.Task.Key, claim.Attempt));
        using (var refused = await controller.CompleteAsync(claim, "worker-2", AttemptResult.Passed))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("does not hold the lease", await refused.Content.ReadAsStringAsync());
        }

        using (var accepted = await controller.CompleteAsync(claim, "worker-1", AttemptResult.Passed))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        var results = await controller.ResultsAsync(r => r.Progress.Done == 1);
        Assert.Equal([("passed", "complete", "worker-1", "1s"), ("unknown", "waiting", null, "0s")],
            results.Tasks.Select(t => (t.Result, t.Status, t.Worker, t.Duration)));
        Assert.Equal((2, 1, 1), (results.Progress.Total, results.Progress.Done, results.Progress.Passed));
        Assert.Equal(HttpStatusCode.OK, (await controller.Http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task A_report_without_an_output_tail_is_recorded_not_a_500()
    {
        // Found by the HTTP fuzz: the source-generated reader leaves an absent init property null (not its "" default),
        // and trimming the tail threw NullReferenceException.
        await using var controller = await ControllerHarness.StartAsync(tasks: 1);
        var claim = (await controller.ClaimAsync("worker-1")).Task!;

        using var response = await controller.Worker("worker-1").PostAsync("/api/complete", new StringContent(
            $$"""{"key":"{{claim.Task.Key}}","attempt":1,"worker":"worker-1","result":"passed","exitCode":0,"durationMs":5}""",
            Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_worker_cannot_claim_extend_or_complete_in_another_workers_name()
    {
        // Fails on the shared token of old: worker-2 completed worker-1's task by naming worker-1 (200, recorded passed).
        await using var controller = await ControllerHarness.StartAsync(tasks: 1);
        var claim = (await controller.ClaimAsync("worker-1")).Task!;

        using var completed = await controller.CompleteAsync(claim, "worker-1", AttemptResult.Passed, caller: "worker-2");
        using var extended = await controller.Worker("worker-2").PostAsJsonAsync("/api/heartbeat",
            new HeartbeatRequest(claim.Task.Key, claim.Attempt, "worker-1"), WorkQueueJson.Default.HeartbeatRequest);
        using var claimed = await controller.Worker("worker-2").PostAsJsonAsync("/api/claim", new ClaimRequest("worker-1"), WorkQueueJson.Default.ClaimRequest);

        foreach (var refused in new[] { completed, extended, claimed })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("worker-2 (workqueue.worker) may not act for worker-1", await refused.Content.ReadAsStringAsync());
        }

        // The results route serves the monitor's last look: wait until it has seen the claim, then the task must still be worker-1's.
        var task = Assert.Single((await controller.ResultsAsync(d => d.Tasks.All(t => t.Status != "waiting"))).Tasks);
        Assert.Equal(("running", "worker-1"), (task.Status, task.Worker));
        using var other = new HttpClient { BaseAddress = controller.Url };
        other.DefaultRequestHeaders.Authorization = new("Bearer", TestNodeContext.CredentialOf("controller", WorkQueuePlan.ControllerRole, reportsOutcome: true));
        Assert.Equal(HttpStatusCode.Forbidden, (await other.PostAsJsonAsync("/api/claim", new ClaimRequest("controller"), WorkQueueJson.Default.ClaimRequest)).StatusCode);
    }

    [Fact]
    public async Task A_report_asking_for_the_next_task_gets_it_in_the_same_reply_and_a_refused_one_still_carries_it()
    {
        await using var controller = await ControllerHarness.StartAsync(tasks: 3);
        var first = (await controller.ClaimAsync("worker-1")).Task!;

        using var recorded = await controller.Worker("worker-1").PostAsJsonAsync("/api/complete?next=true", new Completion
        {
            Key = first.Task.Key, Attempt = 1, Worker = "worker-1", Result = AttemptResult.Passed, ExitCode = 0, DurationMs = 5,
        }, WorkQueueJson.Default.Completion);
        var reply = (await recorded.Content.ReadFromJsonAsync(WorkQueueJson.Default.ReportReply))!;
        Assert.Equal(("recorded", "task:g:1", 1), (reply.Outcome, reply.Next!.Task!.Task.Key, reply.Next.Task.Attempt));

        using var late = await controller.Worker("worker-2").PostAsJsonAsync("/api/complete?next=true", new Completion
        {
            Key = first.Task.Key, Attempt = 1, Worker = "worker-2", Result = AttemptResult.Passed, ExitCode = 0, DurationMs = 5,
        }, WorkQueueJson.Default.Completion);
        var refused = (await late.Content.ReadFromJsonAsync(WorkQueueJson.Default.ReportReply))!;
        Assert.Equal(("refused", "task:g:2"), (refused.Outcome, refused.Next!.Task!.Task.Key));
        var states = (await controller.ResultsAsync(r => r.Progress.Running == 2)).Tasks.Select(t => (t.Status, t.Worker));
        Assert.Equal([("complete", "worker-1"), ("running", "worker-1"), ("running", "worker-2")], states);
    }

    [Fact]
    public async Task Worker_endpoints_refuse_a_missing_token_a_malformed_body_and_a_bad_worker_name_and_change_nothing()
    {
        await using var controller = await ControllerHarness.StartAsync(tasks: 1);
        using var anonymous = new HttpClient { BaseAddress = controller.Url };

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/claim", Json("""{"worker":"w"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await controller.Http.PostAsync("/api/claim", Json("{\"worker\":\"w\""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await controller.Http.PostAsync("/api/claim", Json("""{"worker":"w","extra":1}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await controller.Http.PostAsync("/api/claim", Json("""{"worker":"../x"}"""))).StatusCode);

        var results = await controller.ResultsAsync(_ => true);
        Assert.Equal("waiting", Assert.Single(results.Tasks).Status);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

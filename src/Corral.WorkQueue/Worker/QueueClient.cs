using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Node.Security;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Corral.Node.Randomness;
using Corral.Node.Resilience;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Worker;

/// <summary>
/// A worker's client for the controller's API. The controller is found through the membership (again after every
/// failure: a restarted controller may listen elsewhere); every call has a timeout; unreachable or 5xx answers are
/// retried with back-off within a budget; a 409 is the controller's "you no longer hold this lease".
/// </summary>
internal sealed class QueueClient : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);
    private readonly HttpClient _http;
    private readonly ControlClient _control;
    private readonly NodeContext _context;
    private readonly TimeSpan _budget;
    private Uri? _controller;

    public QueueClient(NodeContext context, ControlClient control, TimeSpan budget, HttpMessageHandler? handler = null)
    {
        _context = context;
        _control = control;
        _budget = budget;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(CredentialVerifier.Scheme, context.Token);
    }

    /// <summary>Set for a controller at a known address (tests, benchmarks): no membership lookup.</summary>
    public Uri? FixedController { get; init; }

    public Task<ClaimReply> ClaimAsync(CancellationToken cancellationToken) =>
        SendAsync(QueueRoutes.Claim, new ClaimRequest(_context.NodeId), WorkQueueJson.Default.ClaimRequest, WorkQueueJson.Default.ClaimReply, cancellationToken)!;

    /// <summary>False when the lease is lost (409).</summary>
    public async Task<bool> HeartbeatAsync(ClaimedTask task, CancellationToken cancellationToken) =>
        await SendAsync(QueueRoutes.Heartbeat, new HeartbeatRequest(task.Task.Key, task.Attempt, _context.NodeId),
            WorkQueueJson.Default.HeartbeatRequest, WorkQueueJson.Default.ReportReply, cancellationToken) is not null;

    /// <summary>False when the report was refused (409): the lease was lost and someone else runs the task.</summary>
    public async Task<bool> CompleteAsync(ClaimedTask task, RunResult result, CancellationToken cancellationToken) =>
        (await CompleteAndClaimAsync(task, result, claimNext: false, cancellationToken)).Recorded;

    /// <summary>Reports an attempt and, with <paramref name="claimNext"/>, gets the next task in the same request.</summary>
    public async Task<(bool Recorded, ClaimReply? Next)> CompleteAndClaimAsync(ClaimedTask task, RunResult result, bool claimNext, CancellationToken cancellationToken)
    {
        var reply = await SendAsync(claimNext ? QueueRoutes.Complete + "?next=true" : QueueRoutes.Complete, new Completion
        {
            Key = task.Task.Key,
            Attempt = task.Attempt,
            Worker = _context.NodeId,
            Result = result.Result,
            ExitCode = result.ExitCode,
            DurationMs = result.DurationMs,
            OutputTail = result.OutputTail,
        }, WorkQueueJson.Default.Completion, WorkQueueJson.Default.ReportReply, cancellationToken);
        return (reply is not null && reply.Outcome != "refused", reply?.Next);
    }

    /// <summary>The reply, or null for a 409; other failures are retried within the budget, then thrown.</summary>
    private async Task<TReply?> SendAsync<TRequest, TReply>(string route, TRequest body, JsonTypeInfo<TRequest> request, JsonTypeInfo<TReply> reply,
        CancellationToken cancellationToken) where TReply : class
    {
        var backoff = new Backoff(new BackoffOptions { Initial = TimeSpan.FromMilliseconds(50), Max = TimeSpan.FromSeconds(1), Budget = _budget },
            _context.Time, new SeededRandom(_context.Seed, $"{_context.NodeId}/queue-client"));
        while (true)
        {
            string failure;
            try
            {
                var controller = await ControllerAsync(cancellationToken);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(CallTimeout);
                using var response = await _http.PostAsJsonAsync(new Uri(controller, route), body, request, timeout.Token);
                if (response.StatusCode == HttpStatusCode.Conflict) return null;
                if (response.IsSuccessStatusCode) return (await response.Content.ReadFromJsonAsync(reply, timeout.Token))!;
                var detail = await response.Content.ReadAsStringAsync(timeout.Token);
                if ((int)response.StatusCode is >= 400 and < 500)
                {
                    throw new InvalidOperationException($"the controller refused {route} with {(int)response.StatusCode}: {detail}");
                }

                failure = $"{(int)response.StatusCode} {detail}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
            {
                failure = e.Message;
            }

            _controller = null;
            if (!await backoff.WaitAsync(cancellationToken))
            {
                throw new HttpRequestException($"the controller did not answer {route} for {_budget.TotalSeconds:0.#} s: {failure}");
            }
        }
    }

    private async Task<Uri> ControllerAsync(CancellationToken cancellationToken)
    {
        if (FixedController is { } fixedUrl) return fixedUrl;
        if (_controller is { } known) return known;
        var membership = await _control.GetMembershipAsync(cancellationToken);
        var member = membership.OfRole(WorkQueuePlan.ControllerRole).FirstOrDefault()
                     ?? throw new HttpRequestException("no controller is a ready member yet");
        return _controller = new Uri(member.Url());
    }

    public void Dispose() => _http.Dispose();
}

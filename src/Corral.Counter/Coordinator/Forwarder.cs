using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Partitioning;
using Corral.Node.Security;
using Corral.Node.Nodes;
using Microsoft.Extensions.Logging;

namespace Corral.Counter.Coordinator;

/// <summary>How a coordinator write ended.</summary>
public enum WriteStatus
{
    /// <summary>Every item is durable (200).</summary>
    Written,

    /// <summary>Every item was taken by a worker in periodic mode (202): persisted within the persist interval.</summary>
    Queued,

    /// <summary>Some items found no worker within the retry budget (503); the rest may be written, and a retry of the batch makes it whole.</summary>
    Unavailable,

    /// <summary>A worker refused the items as invalid (a bug or a version mismatch between coordinator and worker: 502).</summary>
    Refused,
}

/// <summary>The outcome of a coordinator write, with what a person needs to know when it failed.</summary>
public sealed record WriteOutcome(WriteStatus Status, string? Detail = null);

/// <summary>
/// Sends a batch's items to their partitions' owners, in parallel, one buffered body per owner. A part whose owner
/// fails (refused connection, timeout, draining, a newer owner) is re-routed over the current membership and sent
/// again, until the retry budget is spent: resending is safe because a worker's insert ignores items it has.
/// </summary>
public sealed partial class Forwarder : IDisposable
{
    private readonly OwnerTable _owners;
    private readonly Partitioner _partitioner;
    private readonly CounterConfig _config;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue _token;

    public Forwarder(OwnerTable owners, CounterConfig config, string token, TimeProvider time, ILogger logger)
    {
        _owners = owners;
        _partitioner = new Partitioner(config.Partitions);
        _config = config;
        _time = time;
        _logger = logger;
        _token = new AuthenticationHeaderValue(CredentialVerifier.Scheme, token);
        _http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(1),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<WriteOutcome> WriteAsync(List<Item> items, CancellationToken cancellationToken)
    {
        var partitions = new int[items.Count];
        for (var i = 0; i < items.Count; i++) partitions[i] = _partitioner.Of(items[i].Tenant);
        var pending = Enumerable.Range(0, items.Count).ToList();
        var deadline = _time.GetUtcNow() + _config.RetryBudget;
        var delay = TimeSpan.FromMilliseconds(10);
        var queued = false;
        string? lastProblem = null;
        while (true)
        {
            var view = _owners.Current;
            var failed = new List<int>();
            if (view.Workers.Count == 0)
            {
                failed = pending;
                lastProblem = "no worker is ready";
            }
            else
            {
                var parts = pending.GroupBy(i => view.Owners[partitions[i]]).Select(g => (Worker: view.Workers[g.Key], Indexes: g.ToList())).ToArray();
                var attempts = await Task.WhenAll(parts.Select(p => SendAsync(p.Worker, ItemBatchWriter.Write(p.Indexes.Select(i => items[i])), cancellationToken)));
                for (var k = 0; k < parts.Length; k++)
                {
                    var (status, problem) = attempts[k];
                    switch (status)
                    {
                        case SendStatus.Ok:
                            break;
                        case SendStatus.Accepted:
                            queued = true;
                            break;
                        case SendStatus.Refused:
                            return new WriteOutcome(WriteStatus.Refused, $"{parts[k].Worker.NodeId} refused the items: {problem}");
                        case SendStatus.Unreachable:
                            _owners.Suspect(parts[k].Worker);
                            LogSuspect(_logger, parts[k].Worker.NodeId, problem ?? "");
                            goto default;
                        default:
                            lastProblem = $"{parts[k].Worker.NodeId}: {problem}";
                            failed.AddRange(parts[k].Indexes);
                            break;
                    }
                }
            }

            if (failed.Count == 0) return new WriteOutcome(queued ? WriteStatus.Queued : WriteStatus.Written);
            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return new WriteOutcome(WriteStatus.Unavailable,
                    $"{failed.Count} of {items.Count} items found no worker to take them within {_config.RetryBudget.TotalSeconds:0.#} s " +
                    $"(last: {lastProblem}); the others are written: send the whole batch again, it is counted once");
            }

            pending = failed;
            await _owners.WaitForChangeAsync(delay < remaining ? delay : remaining, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(500).Ticks));
        }
    }

    /// <summary>The tenant's count from its partition's owner; null with the reason when no worker answered within the budget.</summary>
    public async Task<(long? Count, string? Problem)> CountAsync(string tenant, CancellationToken cancellationToken)
    {
        var partition = _partitioner.Of(tenant);
        var deadline = _time.GetUtcNow() + _config.RetryBudget;
        var delay = TimeSpan.FromMilliseconds(10);
        string problem;
        while (true)
        {
            var owner = _owners.Current.OwnerOf(partition);
            if (owner is null)
            {
                problem = "no worker is ready";
            }
            else
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_config.ForwardTimeout);
                try
                {
                    using var response = await _http.GetAsync(new Uri(owner.Url, $"/items/{Uri.EscapeDataString(tenant)}/count"), timeout.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        var reply = await response.Content.ReadFromJsonAsync(CounterJson.Default.CountReply, timeout.Token);
                        return (reply!.Count, null);
                    }

                    problem = $"{owner.NodeId} answered {(int)response.StatusCode}";
                    _owners.Suspect(owner);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
                {
                    problem = $"{owner.NodeId}: {e.Message}";
                    _owners.Suspect(owner);
                }
            }

            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return (null, problem);
            await _owners.WaitForChangeAsync(delay < remaining ? delay : remaining, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(500).Ticks));
        }
    }

    private enum SendStatus { Ok, Accepted, NotOwner, Unreachable, Failed, Refused }

    private async Task<(SendStatus Status, string? Problem)> SendAsync(WorkerRef worker, byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_config.ForwardTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(worker.Url, "/items")) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = _token;
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            return response.StatusCode switch
            {
                HttpStatusCode.OK => (SendStatus.Ok, null),
                HttpStatusCode.Accepted => (SendStatus.Accepted, null),
                HttpStatusCode.Conflict => (SendStatus.NotOwner, "a newer owner holds a partition"),
                // Draining: the membership will say so in a moment; route around it now.
                HttpStatusCode.ServiceUnavailable => (SendStatus.Unreachable, "draining"),
                >= HttpStatusCode.InternalServerError => (SendStatus.Failed, $"answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(timeout.Token)}"),
                _ => (SendStatus.Refused, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(timeout.Token)}"),
            };
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return (SendStatus.Unreachable, e is OperationCanceledException ? $"no answer within {_config.ForwardTimeout.TotalSeconds:0.#} s" : e.Message);
        }
    }

    public void Dispose() => _http.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "RETRYING: {NodeId} did not take its items ({Problem}); its partitions go to the other workers for now")]
    private static partial void LogSuspect(ILogger logger, string nodeId, string problem);
}

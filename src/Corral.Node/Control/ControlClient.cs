using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Node.Http;
using Corral.Node.Randomness;
using Corral.Node.Resilience;

namespace Corral.Node.Control;

/// <summary>
/// A node's client for the supervisor's control API. Every call has a timeout; the feeds reconnect
/// with back-off (also when a feed goes silent past its heartbeat: a half-open connection), so a node
/// outlives a brief hiccup of its supervisor.
/// </summary>
public sealed class ControlClient : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    public ControlClient(Uri controlUrl, string credential, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = controlUrl,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>
    /// How long a feed may send nothing, not even its heartbeat (every 5 s by default), before the connection counts
    /// as dead and the feed resubscribes. Keep it a few heartbeats long, so one late heartbeat is not a reconnect.
    /// </summary>
    public TimeSpan FeedSilenceTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long <see cref="ReportFinishedAsync"/> keeps retrying a supervisor that is unreachable or answers 5xx.</summary>
    public TimeSpan ReportRetryBudget { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The run's seed (the node's <see cref="Nodes.NodeContext.Seed"/>), so a seeded run's retry jitter replays; 0 when there is none.</summary>
    public long Seed { get; init; }

    public Task<MembershipSnapshot> GetMembershipAsync(CancellationToken cancellationToken = default) =>
        GetAsync(ControlRoutes.Membership, ControlJson.Default.MembershipSnapshot, cancellationToken);

    public Task<ConfigDocument> GetConfigAsync(CancellationToken cancellationToken = default) =>
        GetAsync(ControlRoutes.Config, ControlJson.Default.ConfigDocument, cancellationToken);

    public Task<IReadOnlyList<NodeStatus>> GetNodesAsync(CancellationToken cancellationToken = default) =>
        GetAsync(ControlRoutes.Nodes, ControlJson.Default.IReadOnlyListNodeStatus, cancellationToken);

    public Task ReportEndpointsAsync(string nodeId, IReadOnlyDictionary<string, int> ports, CancellationToken cancellationToken = default) =>
        PostAsync(ControlRoutes.Endpoints(nodeId), new EndpointsReport(ports), ControlJson.Default.EndpointsReport, cancellationToken);

    /// <summary>
    /// Reports the run's outcome (idempotent at the supervisor). Connection errors, timeouts and 5xx answers are retried
    /// with back-off for <see cref="ReportRetryBudget"/>; a 4xx is final (the report itself is wrong: retrying cannot
    /// help) and is thrown at once, as is the last error once the budget is spent.
    /// </summary>
    public async Task ReportFinishedAsync(RunOutcome outcome, CancellationToken cancellationToken = default)
    {
        // An unset summary cannot be serialised; send JSON null instead.
        if (outcome.Summary.ValueKind == JsonValueKind.Undefined)
        {
            outcome = outcome with { Summary = JsonDocument.Parse("null").RootElement };
        }

        var backoff = new Backoff(new BackoffOptions { Budget = ReportRetryBudget }, _time, new SeededRandom(Seed, "control-client/finished"));
        while (true)
        {
            try
            {
                await PostAsync(ControlRoutes.Finished, outcome, ControlJson.Default.RunOutcome, cancellationToken);
                return;
            }
            catch (HttpRequestException e) when (e.StatusCode is { } status && (int)status is >= 400 and < 500)
            {
                throw;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (!await backoff.WaitAsync(cancellationToken))
                {
                    throw new HttpRequestException(
                        $"could not report the outcome to {BaseAddress}: still failing after {ReportRetryBudget.TotalSeconds:0.#}s ({e.Message})", e);
                }
            }
        }
    }

    /// <summary>A fresh one-time link to the run's dashboard (<c>corral dashboard &lt;run-id&gt;</c>).</summary>
    public async Task<string> NewDashboardLinkAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        using var response = await _http.PostAsync(ControlRoutes.DashboardCode, null, timeout.Token);
        await EnsureSuccessAsync(response, ControlRoutes.DashboardCode);
        return (await response.Content.ReadFromJsonAsync(ControlJson.Default.DashboardLink, timeout.Token))!.Url;
    }

    /// <summary>A node-scoped credential for a node started by hand (the operator's credential only).</summary>
    public async Task<IssuedCredential> IssueCredentialAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        var route = ControlRoutes.Credential(nodeId);
        using var response = await _http.PostAsync(route, null, timeout.Token);
        await EnsureSuccessAsync(response, route);
        return (await response.Content.ReadFromJsonAsync(ControlJson.Default.IssuedCredential, timeout.Token))!;
    }

    /// <summary>The membership feed: the current snapshot first, then one event per change; reconnects on its own.</summary>
    public IAsyncEnumerable<MembershipEvent> WatchMembershipAsync(CancellationToken cancellationToken = default) =>
        WatchAsync(ControlRoutes.MembershipEvents, ControlJson.Default.MembershipEvent, cancellationToken);

    /// <summary>The config feed: the current config first, then each reloaded version.</summary>
    public IAsyncEnumerable<ConfigDocument> WatchConfigAsync(CancellationToken cancellationToken = default) =>
        WatchAsync(ControlRoutes.ConfigEvents, ControlJson.Default.ConfigDocument, cancellationToken);

    private async IAsyncEnumerable<T> WatchAsync<T>(string route, JsonTypeInfo<T> json, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpResponseMessage? response = null;
            Stream? stream = null;
            try
            {
                using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                connect.CancelAfter(CallTimeout);
                response = await _http.GetAsync(route, HttpCompletionOption.ResponseHeadersRead, connect.Token);
                response.EnsureSuccessStatusCode();
                stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
            {
                response?.Dispose();
                response = null;
            }

            if (response is not null && stream is not null)
            {
                using (response)
                {
                    delay = TimeSpan.FromMilliseconds(100);
                    await using var events = EventStreamReader.ReadAsync(stream, FeedSilenceTimeout, _time, cancellationToken)
                        .GetAsyncEnumerator(cancellationToken);
                    while (true)
                    {
                        T? item;
                        try
                        {
                            if (!await events.MoveNextAsync()) break;
                            item = JsonSerializer.Deserialize(events.Current.Data, json);
                        }
                        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or TimeoutException)
                        {
                            // Broken, or silent past the heartbeat (half-open): reconnect for a fresh snapshot.
                            break;
                        }

                        if (item is not null) yield return item;
                    }
                }
            }

            if (cancellationToken.IsCancellationRequested) yield break;
            try
            {
                await Task.Delay(delay, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
        }
    }

    private async Task<T> GetAsync<T>(string route, JsonTypeInfo<T> json, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        using var response = await _http.GetAsync(route, timeout.Token);
        await EnsureSuccessAsync(response, route);
        return (await response.Content.ReadFromJsonAsync(json, timeout.Token))!;
    }

    private async Task PostAsync<T>(string route, T body, JsonTypeInfo<T> json, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CallTimeout);
        using var response = await _http.PostAsJsonAsync(route, body, json, timeout.Token);
        await EnsureSuccessAsync(response, route);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string route)
    {
        if (response.IsSuccessStatusCode) return;
        var detail = await response.Content.ReadAsStringAsync();
        throw new HttpRequestException($"control API {route} answered {(int)response.StatusCode}: {detail}", null,
            response.StatusCode == HttpStatusCode.OK ? null : response.StatusCode);
    }

    public void Dispose() => _http.Dispose();
}

using System.Net;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// The run's HTTP prober: one client shared by every node's <see cref="NodeProbe"/>, asking whether a URL answers
/// 200 within a timeout. It never goes through a proxy and connects fresh often enough to follow restarted nodes.
/// </summary>
internal sealed class NodeProber(TimeProvider time) : IDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(1),
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
    }) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Whether a GET of <paramref name="url"/> answers 200 within <paramref name="timeout"/>; any failure is a no.</summary>
    public async Task<bool> HttpOkAsync(Uri url, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout, time);
        try
        {
            using var response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    public void Dispose() => _client.Dispose();
}

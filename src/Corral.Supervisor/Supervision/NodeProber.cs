using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Node.Control;
using Corral.Node.Http;
using Corral.Node.Nodes;

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

    /// <summary>A client per unix socket that a program's HTTP probe goes through (a program that listens on no TCP port).</summary>
    private readonly ConcurrentDictionary<string, HttpClient> _socketClients = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether a GET of <paramref name="url"/> answers 200 within <paramref name="timeout"/>; any failure is a no. With
    /// <paramref name="socketPath"/>, the GET goes through that unix socket instead of to the URL's host and port.
    /// </summary>
    public async Task<bool> HttpOkAsync(Uri url, TimeSpan timeout, string? socketPath = null)
    {
        using var cancel = new CancellationTokenSource(timeout, time);
        try
        {
            var client = socketPath is null ? _client : _socketClients.GetOrAdd(socketPath, ThroughSocket);
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether a GET of <paramref name="url"/> answers 200 within <paramref name="timeout"/>, and the probe reply in its
    /// body when it is one (a Corral node's <c>/readyz</c> and <c>/healthz</c> name the node instance that answers).
    /// </summary>
    public async Task<(bool Ok, ProbeReply? Reply)> ProbeAsync(Uri url, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout, time);
        try
        {
            using var response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (false, null);
            }

            try
            {
                return (true, await response.Content.ReadFromJsonAsync(ControlJson.Default.ProbeReply, cancel.Token));
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
            {
                return (true, null);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return (false, null);
        }
    }

    private static HttpClient ThroughSocket(string path) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(1),
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        ConnectCallback = (_, ct) => UnixSockets.ConnectAsync(path, ct),
    }) { Timeout = Timeout.InfiniteTimeSpan };

    public void Dispose()
    {
        _client.Dispose();
        foreach (var client in _socketClients.Values)
        {
            client.Dispose();
        }
    }
}

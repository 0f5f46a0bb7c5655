using System.Collections.Concurrent;
using System.Net;

namespace Corral.Testing;

/// <summary>
/// Concurrent clients looping <c>GET /api/v1/hello</c> through balancers (127.0.0.1 only), counting every answer.
/// Each client stops by itself after its request quota or at the hard deadline, whichever comes first, or when
/// <see cref="StopAsync"/> is called, so a test can never leave load running.
/// </summary>
public sealed class HelloLoad : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _clients;
    private readonly ConcurrentQueue<string> _failures = new();
    private long _sent;
    private long _ok;
    private long _serverErrors;

    private HelloLoad(IReadOnlyList<int> balancerPorts, int clients, int requestsPerClient, TimeSpan deadline)
    {
        // No proxy (the environment's must never see test traffic); pooled keep-alive connections, as a real client.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = clients })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        _stop = new CancellationTokenSource(deadline);
        _clients = Enumerable.Range(0, clients)
            .Select(i => Task.Run(() => ClientAsync(balancerPorts[i % balancerPorts.Count], requestsPerClient)))
            .ToArray();
    }

    /// <summary>Requests answered or failed so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>200 answers with a worker's hello.</summary>
    public long Ok => Interlocked.Read(ref _ok);

    /// <summary>500 answers passed on from a worker (its injected <c>Randomized Server Error</c>).</summary>
    public long ServerErrors => Interlocked.Read(ref _serverErrors);

    /// <summary>Every answer that was not a worker's 200 or 500, and every transport error: what a client would see as broken.</summary>
    public IReadOnlyList<string> Failures => _failures.ToArray();

    public static HelloLoad Start(IReadOnlyList<int> balancerPorts, int clients, int requestsPerClient = int.MaxValue, TimeSpan? deadline = null) =>
        new(balancerPorts, clients, requestsPerClient, deadline ?? TimeSpan.FromSeconds(90));

    /// <summary>Waits until every client has used its quota (or the deadline passed).</summary>
    public Task CompletedAsync() => Task.WhenAll(_clients);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
    }

    private async Task ClientAsync(int port, int requests)
    {
        var url = $"http://127.0.0.1:{port}/api/v1/hello";
        for (var i = 0; i < requests && !_stop.IsCancellationRequested; i++)
        {
            try
            {
                using var response = await _http.GetAsync(url, _stop.Token);
                var body = await response.Content.ReadAsStringAsync(_stop.Token);
                if (response.StatusCode == HttpStatusCode.OK && body.Contains("hello from worker")) Interlocked.Increment(ref _ok);
                else if (response.StatusCode == HttpStatusCode.InternalServerError && body.Contains("Randomized Server Error")) Interlocked.Increment(ref _serverErrors);
                else _failures.Enqueue($"{(int)response.StatusCode}: {body}");
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Stopped mid-request: neither answered nor failed, so not counted.
                return;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                _failures.Enqueue(e.GetType().Name + ": " + e.Message);
            }

            Interlocked.Increment(ref _sent);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        _http.Dispose();
    }
}

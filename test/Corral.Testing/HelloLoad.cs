using System.Collections.Concurrent;
using System.Net;

namespace Corral.Testing;

/// <summary>
/// Concurrent clients looping <c>GET /api/v1/hello</c> through balancers (on loopback, or in containers the test's run created), counting every answer.
/// Each client stops issuing by itself after its request quota or at the hard deadline, whichever comes first, or when
/// <see cref="StopAsync"/> is called, so a test can never leave load running; a request still unanswered
/// <see cref="InFlightGrace"/> after that is a failure, not silently dropped.
/// </summary>
public sealed class HelloLoad : IAsyncDisposable
{
    private readonly HttpClient _http;
    /// <summary>How long a request in flight when the load stops may take to be answered before it counts as a failure.</summary>
    public static readonly TimeSpan InFlightGrace = TimeSpan.FromSeconds(10);

    // Two stops: issuing ends (StopAsync or the deadline), then, InFlightGrace later, whatever is still unanswered is
    // abandoned and counted as a failure, so a request the system under test swallowed can never pass unseen.
    private readonly CancellationTokenSource _stopIssuing;
    private readonly CancellationTokenSource _abandon = new();
    private readonly CancellationTokenRegistration _abandonAfterGrace;
    private readonly Task[] _clients;
    private readonly ConcurrentQueue<string> _failures = new();
    private long _sent;
    private long _ok;
    private long _serverErrors;

    private readonly string _host;

    private HelloLoad(IReadOnlyList<int> balancerPorts, int clients, int requestsPerClient, TimeSpan deadline, string host)
    {
        _host = host;
        // No proxy (the environment's must never see test traffic); pooled keep-alive connections, as a real client.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = clients })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
        _stopIssuing = new CancellationTokenSource(deadline);
        _abandonAfterGrace = _stopIssuing.Token.Register(() => _abandon.CancelAfter(InFlightGrace));
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

    /// <summary>
    /// Every answer that was not a worker's 200 or 500, every transport error, and every request left unanswered
    /// <see cref="InFlightGrace"/> after the load stopped: what a client would see as broken.
    /// </summary>
    public IReadOnlyList<string> Failures => _failures.ToArray();

    /// <param name="host">Where the balancers are: loopback, or (nodes as containers) the address of a container the test's run created.</param>
    public static HelloLoad Start(IReadOnlyList<int> balancerPorts, int clients, int requestsPerClient = int.MaxValue, TimeSpan? deadline = null,
        string host = "127.0.0.1") =>
        new(balancerPorts, clients, requestsPerClient, deadline ?? TimeSpan.FromSeconds(90), host);

    /// <summary>Waits until every client has used its quota (or the deadline passed).</summary>
    public Task CompletedAsync() => Task.WhenAll(_clients);

    /// <summary>Stops issuing requests and waits for those in flight (at most <see cref="InFlightGrace"/>, then they are failures).</summary>
    public async Task StopAsync()
    {
        await _stopIssuing.CancelAsync();
        await Task.WhenAll(_clients);
    }

    private async Task ClientAsync(int port, int requests)
    {
        var url = $"http://{_host}:{port}/api/v1/hello";
        for (var i = 0; i < requests && !_stopIssuing.IsCancellationRequested; i++)
        {
            try
            {
                using var response = await _http.GetAsync(url, _abandon.Token);
                var body = await response.Content.ReadAsStringAsync(_abandon.Token);
                if (response.StatusCode == HttpStatusCode.OK && body.Contains("hello from worker")) Interlocked.Increment(ref _ok);
                else if (response.StatusCode == HttpStatusCode.InternalServerError && body.Contains("Randomized Server Error")) Interlocked.Increment(ref _serverErrors);
                else _failures.Enqueue($"{(int)response.StatusCode}: {body}");
            }
            catch (OperationCanceledException) when (_abandon.IsCancellationRequested)
            {
                _failures.Enqueue($"unanswered {InFlightGrace.TotalSeconds:0} s after the load stopped");
                Interlocked.Increment(ref _sent);
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
        await _abandonAfterGrace.DisposeAsync();
        _stopIssuing.Dispose();
        _abandon.Dispose();
        _http.Dispose();
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Corral.EndToEnd.Tests.Counter;

/// <summary>
/// Clients posting item batches to a coordinator, and the reference distinct count per tenant. The items are drawn
/// from a seeded generator: a third of them (<see cref="DuplicateShare"/>) repeat an id the tenant already has. With
/// <c>retry</c> each client resends a batch until it is acknowledged (what a client of an at-least-once API does);
/// without, any answer but 200 is a failure. Bounded by a deadline, so a test never leaves load running.
/// </summary>
internal sealed class CounterLoad : IAsyncDisposable
{
    public const double DuplicateShare = 0.3;

    private readonly HttpClient _http;
    private readonly ConcurrentQueue<string> _batches;
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _clients;
    private readonly bool _retry;
    private readonly int _port;
    private readonly string _host;
    private readonly double _itemsPerSecond;
    private readonly long _startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
    private long _scheduled;
    private long _acknowledged;
    private long _retries;

    private CounterLoad(int port, IEnumerable<string> batches, int clients, bool retry, TimeSpan deadline, double itemsPerSecond, string host)
    {
        _port = port;
        _host = host;
        _itemsPerSecond = itemsPerSecond;
        _retry = retry;
        _batches = new ConcurrentQueue<string>(batches);
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = clients }) { Timeout = TimeSpan.FromSeconds(60) };
        _stop = new CancellationTokenSource(deadline);
        _clients = Enumerable.Range(0, clients).Select(_ => Task.Run(ClientAsync)).ToArray();
    }

    /// <summary>Items acknowledged with 200 so far.</summary>
    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long Retries => Interlocked.Read(ref _retries);
    public IReadOnlyList<string> Failures => _failures.ToArray();
    public bool Finished => _clients.All(c => c.IsCompleted);

    /// <summary>
    /// <paramref name="total"/> items over <paramref name="tenants"/> tenants in batches of <paramref name="batchSize"/>,
    /// and each tenant's distinct ids (the count the cluster must end with).
    /// </summary>
    public static (List<string> Batches, Dictionary<string, HashSet<string>> Reference) Plan(int total, int tenants, int batchSize, int seed)
    {
        var random = new Random(seed);
        var reference = new Dictionary<string, HashSet<string>>();
        var ids = new Dictionary<string, List<string>>();
        var batches = new List<string>();
        var batch = new StringBuilder();
        var inBatch = 0;
        for (var i = 0; i < total; i++)
        {
            var tenant = $"tenant-{random.Next(tenants)}";
            if (!ids.TryGetValue(tenant, out var known)) ids[tenant] = known = [];
            string id;
            if (known.Count > 0 && random.NextDouble() < DuplicateShare)
            {
                id = known[random.Next(known.Count)];
            }
            else
            {
                id = $"item-{i}";
                known.Add(id);
            }

            if (!reference.TryGetValue(tenant, out var distinct)) reference[tenant] = distinct = [];
            distinct.Add(id);
            batch.Append(inBatch == 0 ? "[" : ",").Append("{\"id\":\"").Append(id).Append("\",\"tenant\":\"").Append(tenant).Append("\"}");
            if (++inBatch == batchSize || i == total - 1)
            {
                batches.Add(batch.Append(']').ToString());
                batch.Clear();
                inBatch = 0;
            }
        }

        return (batches, reference);
    }

    /// <summary>
    /// Starts the clients; <paramref name="itemsPerSecond"/> caps their total rate, so the load lasts long enough for what a
    /// test does meanwhile. <paramref name="host"/> is the coordinator's address (a container's, under the docker engine).
    /// </summary>
    public static CounterLoad Start(int port, IEnumerable<string> batches, int clients, bool retry, TimeSpan? deadline = null,
        double itemsPerSecond = double.PositiveInfinity, string host = "127.0.0.1") =>
        new(port, batches, clients, retry, deadline ?? TimeSpan.FromSeconds(120), itemsPerSecond, host);

    public Task CompletedAsync() => Task.WhenAll(_clients);

    private async Task ClientAsync()
    {
        var url = $"http://{_host}:{_port}/items";
        while (!_stop.IsCancellationRequested && _batches.TryDequeue(out var batch))
        {
            var items = batch.Split("\"id\"").Length - 1;
            if (!double.IsPositiveInfinity(_itemsPerSecond))
            {
                var due = TimeSpan.FromSeconds(Interlocked.Add(ref _scheduled, items) / _itemsPerSecond);
                var wait = due - System.Diagnostics.Stopwatch.GetElapsedTime(_startedAt);
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }

            while (!_stop.IsCancellationRequested)
            {
                string problem;
                try
                {
                    using var response = await _http.PostAsync(url, new StringContent(batch, Encoding.UTF8, "application/json"), _stop.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Add(ref _acknowledged, items);
                        break;
                    }

                    problem = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(_stop.Token)}";
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    problem = e.GetType().Name + ": " + e.Message;
                }

                if (!_retry)
                {
                    _failures.Enqueue(problem);
                    break;
                }

                Interlocked.Increment(ref _retries);
                await Task.Delay(50, CancellationToken.None);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        _stop.Dispose();
        _http.Dispose();
    }
}

using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Corral.Node.Http;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using V3Electionpb;
using dotnet_etcd;

namespace Corral.Shootout.Peer.Etcd;

/// <summary>
/// etcd through the <c>dotnet-etcd</c> gRPC client, with a deadline on every call and one channel over several
/// endpoints. Streams (watch, observe, lease keep-alive) are re-established here when they break, because the
/// client does not do it by itself.
/// </summary>
internal sealed class EtcdStore : IDisposable
{
    private readonly EtcdClient _client;
    private readonly GrpcChannel? _channel;
    private readonly TimeProvider _time;

    public EtcdStore(string endpoints, TimeSpan? callTimeout = null, TimeProvider? time = null)
        : this(Parse(endpoints), null, callTimeout, time)
    {
    }

    private EtcdStore(IReadOnlyList<string> endpoints, string? socketPath, TimeSpan? callTimeout, TimeProvider? time)
    {
        Endpoints = endpoints;
        CallTimeout = callTimeout ?? TimeSpan.FromSeconds(3);
        _time = time ?? TimeProvider.System;
        if (socketPath is null)
        {
            _client = new EtcdClient(string.Join(',', Endpoints), configureChannelOptions: options =>
            {
                options.HttpHandler = Handler();
                // A member that comes back is tried again within a second, not after gRPC's default two-minute back-off.
                options.InitialReconnectBackoff = TimeSpan.FromMilliseconds(100);
                options.MaxReconnectBackoff = TimeSpan.FromSeconds(1);
            });
        }
        else
        {
            // One socket, so no balancing across members (gRPC's balancer would insist on making the connection
            // itself): a plain channel whose every connection is the socket's; the URL only names the server in requests.
            var handler = Handler();
            handler.ConnectCallback = (_, ct) => UnixSockets.ConnectAsync(socketPath, ct);
            _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
            _client = new EtcdClient(_channel.CreateCallInvoker());
        }

        var connection = _client.GetConnection();
        Kv = connection.KVClient;
        Leases = connection.LeaseClient;
        Elections = connection.ElectionClient;
        Watches = connection.WatchClient;
    }

    /// <summary>Pings find a dead connection that no call happens to use; a connection attempt gives up after a second.</summary>
    private static SocketsHttpHandler Handler() => new()
    {
        EnableMultipleHttp2Connections = true,
        KeepAlivePingDelay = TimeSpan.FromSeconds(1),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(1),
        ConnectTimeout = TimeSpan.FromSeconds(1),
    };

    /// <summary>An etcd that listens on the unix socket at <paramref name="path"/> only (the run's managed etcd).</summary>
    public static EtcdStore OverUnixSocket(string path, TimeSpan? callTimeout = null, TimeProvider? time = null) =>
        new(["unix://" + path], path, callTimeout, time);

    /// <summary>The endpoints, as <c>http://host:port</c>, or the socket as <c>unix:///path</c>.</summary>
    public IReadOnlyList<string> Endpoints { get; }

    public TimeSpan CallTimeout { get; }
    public TimeProvider Time => _time;

    internal KV.KVClient Kv { get; }
    internal Lease.LeaseClient Leases { get; }
    internal Election.ElectionClient Elections { get; }
    internal Watch.WatchClient Watches { get; }

    /// <summary>Reads comma-separated endpoints (<c>http://127.0.0.1:2379,...</c>); throws naming the bad one.</summary>
    public static IReadOnlyList<string> Parse(string endpoints)
    {
        var list = endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length == 0) throw new ArgumentException("no etcd endpoint given: expected http://HOST:PORT[,http://HOST:PORT...]");
        foreach (var e in list)
        {
            if (!Uri.TryCreate(e, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || uri.Port <= 0)
            {
                throw new ArgumentException($"etcd endpoint '{e}' is not http://HOST:PORT");
            }
        }

        return list.Select(e => e.TrimEnd('/')).ToArray();
    }

    /// <summary>The deadline of a call started now.</summary>
    public DateTime Deadline(TimeSpan? timeout = null) => (_time.GetUtcNow() + (timeout ?? CallTimeout)).UtcDateTime;

    public static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    /// <summary>The end of the key range that holds every key starting with <paramref name="prefix"/>.</summary>
    public static ByteString PrefixEnd(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }

        return ByteString.CopyFrom(0);
    }

    public Task<RangeResponse> GetAsync(string key, CancellationToken ct, long revision = 0) =>
        OnAnyMemberAsync(() => Kv.RangeAsync(new RangeRequest { Key = Bytes(key), Revision = revision }, deadline: Deadline(), cancellationToken: ct).ResponseAsync, ct);

    public Task<RangeResponse> GetPrefixAsync(string prefix, CancellationToken ct, long revision = 0) =>
        OnAnyMemberAsync(() => Kv.RangeAsync(new RangeRequest { Key = Bytes(prefix), RangeEnd = PrefixEnd(prefix), Revision = revision },
            deadline: Deadline(), cancellationToken: ct).ResponseAsync, ct);

    public Task<PutResponse> PutAsync(string key, string value, CancellationToken ct, long lease = 0) =>
        OnAnyMemberAsync(() => Kv.PutAsync(new PutRequest { Key = Bytes(key), Value = Bytes(value), Lease = lease }, deadline: Deadline(), cancellationToken: ct).ResponseAsync, ct);

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken ct) =>
        OnAnyMemberAsync(() => Kv.TxnAsync(request, deadline: Deadline(), cancellationToken: ct).ResponseAsync, ct);

    /// <summary>
    /// A unary call, tried again (a moment later, so the channel can pick another member) while it fails with
    /// Unavailable, once per endpoint: a member that just died refuses the connection before the channel has noticed.
    /// Safe for every call made here: reads and puts are idempotent, and each transaction compares mod revisions, so a
    /// repeat of one that did commit fails its compare instead of applying twice.
    /// </summary>
    private async Task<T> OnAnyMemberAsync<T>(Func<Task<T>> call, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && attempt <= Endpoints.Count && !ct.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), _time, ct);
            }
        }
    }

    /// <summary>A new lease and the TTL etcd granted (it raises a TTL below its minimum, which depends on its raft timings).</summary>
    public async Task<(long Id, TimeSpan Ttl)> GrantLeaseAsync(TimeSpan ttl, CancellationToken ct)
    {
        var granted = await Leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)Math.Ceiling(ttl.TotalSeconds) }, deadline: Deadline(), cancellationToken: ct);
        if (!string.IsNullOrEmpty(granted.Error)) throw new InvalidOperationException($"etcd refused a lease: {granted.Error}");
        return (granted.ID, TimeSpan.FromSeconds(granted.TTL));
    }

    /// <summary>Seconds the lease has left, or -1 when it has expired (or never existed).</summary>
    public async Task<long> LeaseTimeToLiveAsync(long lease, CancellationToken ct) =>
        (await Leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease }, deadline: Deadline(), cancellationToken: ct)).TTL;

    public async Task RevokeLeaseAsync(long lease, CancellationToken ct)
    {
        try
        {
            await Leases.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: Deadline(), cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // Already expired: what revoking wanted.
        }
    }

    /// <summary>Blocks until elected under <paramref name="lease"/> (the caller keeps it alive meanwhile); the cancellation token bounds it.</summary>
    public async Task<LeaderKey> CampaignAsync(string election, long lease, string value, CancellationToken ct) =>
        (await Elections.CampaignAsync(new CampaignRequest { Name = Bytes(election), Lease = lease, Value = Bytes(value) }, cancellationToken: ct)).Leader;

    /// <summary>The current leader's value and key, or null when nobody leads.</summary>
    public async Task<Mvccpb.KeyValue?> LeaderAsync(string election, CancellationToken ct)
    {
        try
        {
            return (await Elections.LeaderAsync(new LeaderRequest { Name = Bytes(election) }, deadline: Deadline(), cancellationToken: ct)).Kv;
        }
        catch (RpcException e) when (e.Status.Detail.Contains("no leader", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
    }

    public async Task ResignAsync(LeaderKey leader, CancellationToken ct) =>
        await Elections.ResignAsync(new ResignRequest { Leader = leader }, deadline: Deadline(), cancellationToken: ct);

    /// <summary>
    /// Every leader of <paramref name="election"/> as it changes, the stream re-opened (after a short pause) whenever it
    /// breaks; a leader seen again after a re-open is not repeated.
    /// </summary>
    public async IAsyncEnumerable<Mvccpb.KeyValue> ObserveAsync(string election, [EnumeratorCancellation] CancellationToken ct)
    {
        var lastKey = ByteString.Empty;
        long lastRevision = 0;
        while (!ct.IsCancellationRequested)
        {
            using var call = Elections.Observe(new LeaderRequest { Name = Bytes(election) }, cancellationToken: ct);
            var stream = call.ResponseStream;
            while (true)
            {
                Mvccpb.KeyValue? next = null;
                try
                {
                    if (!await stream.MoveNext(ct)) break;
                    next = stream.Current.Kv;
                }
                catch (RpcException) when (!ct.IsCancellationRequested)
                {
                    Reopened++;
                    break;
                }

                if (next is null || (next.Key == lastKey && next.ModRevision == lastRevision)) continue;
                lastKey = next.Key;
                lastRevision = next.ModRevision;
                yield return next;
            }

            await PauseAsync(ct);
        }
    }

    /// <summary>
    /// The events under <paramref name="prefix"/> from <paramref name="fromRevision"/> on, in revision order; a broken
    /// stream is re-opened from the revision after the last one delivered, so nothing is skipped or repeated.
    /// </summary>
    public IAsyncEnumerable<Mvccpb.Event> WatchPrefixAsync(string prefix, long fromRevision, CancellationToken ct) =>
        WatchRangeAsync(Bytes(prefix), PrefixEnd(prefix), fromRevision, ct);

    /// <summary>The events on keys from <paramref name="key"/> up to (not including) <paramref name="rangeEnd"/>, as <see cref="WatchPrefixAsync"/>.</summary>
    public async IAsyncEnumerable<Mvccpb.Event> WatchRangeAsync(ByteString key, ByteString rangeEnd, long fromRevision, [EnumeratorCancellation] CancellationToken ct)
    {
        var next = fromRevision;
        while (!ct.IsCancellationRequested)
        {
            using var call = Watches.Watch(cancellationToken: ct);
            var events = new List<Mvccpb.Event>();
            var broken = false;
            try
            {
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = key, RangeEnd = rangeEnd, StartRevision = next },
                }, ct);
            }
            catch (RpcException) when (!ct.IsCancellationRequested)
            {
                broken = true;
            }

            while (!broken)
            {
                events.Clear();
                try
                {
                    if (!await call.ResponseStream.MoveNext(ct)) break;
                    var response = call.ResponseStream.Current;
                    if (response.CompactRevision > 0)
                    {
                        throw new InvalidOperationException(
                            $"etcd compacted revision {response.CompactRevision} while watching {key.ToStringUtf8()} from {next}: history lost");
                    }

                    if (response.Canceled) break;
                    events.AddRange(response.Events);
                }
                catch (RpcException) when (!ct.IsCancellationRequested)
                {
                    broken = true;
                }

                foreach (var e in events)
                {
                    next = e.Kv.ModRevision + 1;
                    yield return e;
                }
            }

            Reopened++;
            await PauseAsync(ct);
        }
    }

    /// <summary>How many times a watch or observe stream broke and was re-opened (tests read it).</summary>
    public int Reopened { get; private set; }

    private Task PauseAsync(CancellationToken ct) => Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct);

    /// <summary>
    /// Whether an exception means "etcd is unreachable or slow now" (worth a retry) rather than a bug. A cancellation
    /// counts (a connect cut short by the deadline surfaces as one): callers check their own token first.
    /// </summary>
    public static bool IsTransient(Exception e) =>
        e is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled }
            or HttpRequestException or IOException or TimeoutException or OperationCanceledException;

    public void Dispose()
    {
        _client.Dispose();
        _channel?.Dispose();
    }
}

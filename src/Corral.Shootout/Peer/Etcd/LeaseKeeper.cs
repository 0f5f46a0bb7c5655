using Etcdserverpb;
using Grpc.Core;

namespace Corral.Shootout.Peer.Etcd;

/// <summary>
/// Keeps one lease alive over etcd's keep-alive stream, opening a new stream whenever the old one breaks (the
/// client would leave it broken). <see cref="Lost"/> completes when the lease is gone: etcd says its TTL is over,
/// or no renewal got through for a whole TTL. A lost lease is never revived; the owner grants a new one.
/// </summary>
internal sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly EtcdStore _etcd;
    private readonly TimeSpan _ttl;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<string> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;
    private DateTimeOffset _renewedAt;

    private LeaseKeeper(EtcdStore etcd, long id, TimeSpan ttl)
    {
        _etcd = etcd;
        Id = id;
        _ttl = ttl;
        _renewedAt = etcd.Time.GetUtcNow();
        _loop = Task.Run(RunAsync);
    }

    public long Id { get; }

    /// <summary>The TTL etcd granted (at least what was asked).</summary>
    public TimeSpan Ttl => _ttl;

    /// <summary>Completes, with the reason, once the lease has expired or could not be renewed within its TTL.</summary>
    public Task<string> Lost => _lost.Task;

    /// <summary>How many keep-alive streams were opened after the first (each a recovery from a broken one).</summary>
    public int Reconnects { get; private set; }

    public long Renewals { get; private set; }

    /// <summary>Grants a lease of <paramref name="ttl"/> and keeps it alive until disposed or lost.</summary>
    public static async Task<LeaseKeeper> StartAsync(EtcdStore etcd, TimeSpan ttl, CancellationToken ct)
    {
        var (id, granted) = await etcd.GrantLeaseAsync(ttl, ct);
        return new LeaseKeeper(etcd, id, granted);
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        var interval = _ttl / 4;
        var first = true;
        while (!ct.IsCancellationRequested && !_lost.Task.IsCompleted)
        {
            if (!first) Reconnects++;
            first = false;
            try
            {
                using var call = _etcd.Leases.LeaseKeepAlive(cancellationToken: ct);
                while (!ct.IsCancellationRequested)
                {
                    await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = Id }, ct);
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    wait.CancelAfter(_etcd.CallTimeout);
                    if (!await call.ResponseStream.MoveNext(wait.Token)) break;
                    if (call.ResponseStream.Current.TTL <= 0)
                    {
                        _lost.TrySetResult($"lease {Id:x} expired (etcd answered TTL 0)");
                        return;
                    }

                    _renewedAt = _etcd.Time.GetUtcNow();
                    Renewals++;
                    await Task.Delay(interval, _etcd.Time, ct);
                }
            }
            catch (Exception e) when (!ct.IsCancellationRequested && (e is RpcException or OperationCanceledException or IOException or HttpRequestException))
            {
                // The stream broke or a renewal timed out: open a new one, unless the lease cannot have survived.
            }

            if (_etcd.Time.GetUtcNow() - _renewedAt > _ttl)
            {
                _lost.TrySetResult($"lease {Id:x} not renewed for {_ttl.TotalSeconds:0.#} s (etcd unreachable)");
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _etcd.Time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Stops renewing and revokes the lease (so its keys go at once), best effort within a call deadline.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        if (!_lost.Task.IsCompleted)
        {
            try
            {
                await _etcd.RevokeLeaseAsync(Id, CancellationToken.None);
            }
            catch (Exception e) when (EtcdStore.IsTransient(e))
            {
                // etcd is away: the lease expires on its own after its TTL.
            }
        }

        _stop.Dispose();
    }
}

using Corral.Counter.Items;

namespace Corral.Counter.Coordinator;

/// <summary>The tenants the coordinator has written lately and how many of them it holds a count for (<c>GET /counter/tenants</c>).</summary>
public sealed record TenantsView(long Ingested, IReadOnlyList<TenantCount> Tenants);

/// <summary>One tenant's count now; null when its partition's owner did not answer.</summary>
public sealed record TenantCount(string Tenant, long? Count);

/// <summary>
/// What this coordinator has acknowledged since it started: items in total (the dashboard derives items/s from it) and
/// the tenants written most recently. Bounded, so a stream of new tenants costs nothing but the last few names; the
/// store stays the record of every tenant.
/// </summary>
internal sealed class IngestActivity(int keep = 20)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _lastWritten = new(StringComparer.Ordinal);
    private long _ingested;
    private long _batches;

    public long Ingested => Interlocked.Read(ref _ingested);

    public void Record(IReadOnlyList<Item> items)
    {
        Interlocked.Add(ref _ingested, items.Count);
        lock (_gate)
        {
            var batch = ++_batches;
            foreach (var item in items) _lastWritten[item.Tenant] = batch;
            if (_lastWritten.Count <= 2 * keep) return;
            foreach (var old in _lastWritten.OrderByDescending(t => t.Value).Skip(keep).Select(t => t.Key).ToArray()) _lastWritten.Remove(old);
        }
    }

    /// <summary>The most recently written tenants, newest first.</summary>
    public IReadOnlyList<string> Recent()
    {
        lock (_gate)
        {
            return _lastWritten.OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).Take(keep).Select(t => t.Key).ToArray();
        }
    }
}

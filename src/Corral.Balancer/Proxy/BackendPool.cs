namespace Corral.Balancer.Proxy;

/// <summary>A worker's identity and service address, as the membership feed lists it.</summary>
public sealed record WorkerAddress(string Id, Uri Url);

/// <summary>
/// The workers one balancer knows, replaced as a whole on every membership change (copy-on-write), so the
/// request path reads it without a lock. A worker that stays keeps its state; one that leaves is no longer
/// picked, while its in-flight requests finish.
/// </summary>
internal sealed class BackendPool
{
    private volatile Backend[] _backends = [];

    public IReadOnlyList<Backend> All => _backends;

    public void Update(IEnumerable<WorkerAddress> members)
    {
        var current = _backends.ToDictionary(b => b.Id, StringComparer.Ordinal);
        var next = members
            .DistinctBy(m => m.Id)
            .Select(m => current.TryGetValue(m.Id, out var existing) && existing.BaseUrl == m.Url.GetLeftPart(UriPartial.Authority)
                ? existing
                : new Backend(m.Id, m.Url))
            .OrderBy(b => b.Id, StringComparer.Ordinal)
            .ToArray();
        _backends = next;
    }

    /// <summary>
    /// Where a request may go: the available workers, or, when fewer than <paramref name="panicPercent"/> percent of the
    /// pool are available (panic, as Envoy and YARP call it), every worker, since health that condemns most of a pool is
    /// more likely wrong, or the pool overloaded, than most workers dead. <paramref name="exclude"/> is never included;
    /// 0 turns panic routing off.
    /// </summary>
    public List<Backend> Candidates(DateTimeOffset now, IReadOnlyCollection<Backend>? exclude, double panicPercent, out bool panic)
    {
        var backends = _backends;
        var available = Available(now, exclude);
        var healthy = 0;
        foreach (var backend in backends)
        {
            if (backend.IsAvailable(now)) healthy++;
        }

        panic = panicPercent > 0 && backends.Length > 0 && healthy * 100.0 < panicPercent * backends.Length;
        if (!panic) return available;
        var all = new List<Backend>(backends.Length);
        foreach (var backend in backends)
        {
            if (exclude is null || !exclude.Contains(backend)) all.Add(backend);
        }

        return all;
    }

    /// <summary>Workers that may take a request now (healthy, not ejected), not counting <paramref name="exclude"/>.</summary>
    public List<Backend> Available(DateTimeOffset now, IReadOnlyCollection<Backend>? exclude = null)
    {
        var backends = _backends;
        var list = new List<Backend>(backends.Length);
        foreach (var backend in backends)
        {
            if (backend.IsAvailable(now) && (exclude is null || !exclude.Contains(backend))) list.Add(backend);
        }

        return list;
    }
}

using System.Text;

namespace Corral.Counter.Partitioning;

/// <summary>
/// Tenant → partition: FNV-1a over the tenant's UTF-8 bytes, modulo the store's fixed partition count. Stable across
/// processes and versions (never <see cref="string.GetHashCode()"/>, which is randomised per process).
/// </summary>
public sealed class Partitioner(int partitions)
{
    public int Count { get; } = partitions > 0 ? partitions : throw new ArgumentOutOfRangeException(nameof(partitions), "at least one partition");

    public int Of(string tenant) => (int)(Fnv1a(tenant) % (ulong)Count);

    public static ulong Fnv1a(string text)
    {
        Span<byte> stack = stackalloc byte[512];
        var bytes = Encoding.UTF8.GetMaxByteCount(text.Length) <= stack.Length ? stack[..Encoding.UTF8.GetBytes(text, stack)] : Encoding.UTF8.GetBytes(text);
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }
}

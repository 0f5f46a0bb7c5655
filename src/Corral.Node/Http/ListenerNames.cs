using System.Net;
using System.Net.Sockets;

namespace Corral.Node.Http;

/// <summary>
/// The host names a listener answers to (see <see cref="HostGuard"/>): its bound address literal, <c>localhost</c> for a
/// loopback address, and the names an engine gives the host it runs on (<c>corral-supervisor</c> in a Compose network).
/// A wildcard bind with no names has no one name to compare with and accepts any; with names, it accepts those plus
/// loopback (a wildcard also listens there), so the supervisor can listen off loopback without dropping the check.
/// </summary>
public sealed class ListenerNames
{
    private readonly string[] _names;

    private ListenerNames(string[] names, bool any)
    {
        _names = names;
        AcceptsAny = any;
    }

    /// <summary>Whether any Host is accepted (a wildcard bind that was given no names: a node's listener).</summary>
    public bool AcceptsAny { get; }

    /// <summary>The names a listener bound to <paramref name="bound"/> answers to, plus <paramref name="names"/>.</summary>
    public static ListenerNames Of(IPAddress bound, IEnumerable<string>? names = null)
    {
        var extra = (names ?? []).Where(n => n.Length > 0).ToList();
        var accepted = new List<string>();
        if (bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any))
        {
            if (extra.Count == 0)
            {
                return new([], any: true);
            }

            accepted.AddRange(["127.0.0.1", "[::1]", "localhost"]);
        }
        else
        {
            accepted.Add(Literal(bound));
            if (IPAddress.IsLoopback(bound)) accepted.Add("localhost");
        }

        accepted.AddRange(extra.Select(n => IPAddress.TryParse(n, out var address) ? Literal(address) : n.ToLowerInvariant()));
        return new(accepted.Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), any: false);
    }

    /// <summary>The Host values accepted on <paramref name="port"/> (each with the port), or null when any is.</summary>
    public IReadOnlyList<string>? HostsOn(int port) => AcceptsAny ? null : _names.Select(n => $"{n}:{port}").ToArray();

    /// <summary>Whether <paramref name="name"/> (a Host's or an Origin's host part) is one of the accepted names.</summary>
    public bool Accepts(string name) =>
        // Only a literal is an address: IPAddress.TryParse would also take "2130706433" or "0x7f.1" for 127.0.0.1.
        AcceptsAny || _names.Contains(name, StringComparer.OrdinalIgnoreCase);

    private static string Literal(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}

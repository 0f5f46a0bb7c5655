using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Corral.Node.Nodes;

/// <summary>
/// The ports a node reports to the supervisor, by planned name: the main listener that <see cref="NodeHost.CreateBuilder"/>
/// opens, and any other a role opens beside it (the balancer's h2c listener, a worker's service listener), each read
/// once the host has started, since a planned port of 0 binds any free one.
/// </summary>
public sealed class NodePorts(string mainName)
{
    private readonly Dictionary<string, Func<int?>> _others = new(StringComparer.Ordinal);
    private ListenOptions? _main;

    /// <summary>The planned name of the main listener (<c>http</c>, or <c>admin</c> for a role whose service port is its own host).</summary>
    public string MainName { get; } = mainName;

    /// <summary>The main listener's bound port, once the host has started.</summary>
    public int? MainPort => _main?.IPEndPoint?.Port;

    internal void SetMain(ListenOptions listen) => _main = listen;

    /// <summary>Adds a port to report under <paramref name="name"/>; <paramref name="boundPort"/> is read after start (null: not open).</summary>
    public void Add(string name, Func<int?> boundPort)
    {
        lock (_others) _others[name] = boundPort;
    }

    /// <summary>Every port by name, the main one included, as bound now.</summary>
    public IReadOnlyDictionary<string, int> Bound(int mainPort)
    {
        var ports = new Dictionary<string, int>(StringComparer.Ordinal) { [MainName] = mainPort };
        lock (_others)
        {
            foreach (var (name, port) in _others)
            {
                if (port() is { } bound) ports[name] = bound;
            }
        }

        return ports;
    }
}

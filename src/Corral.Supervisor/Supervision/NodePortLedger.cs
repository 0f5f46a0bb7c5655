using Corral.Node.Planning;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// One supervised node's ports across its processes: the port map's fixed ports, or with <c>--ports dynamic</c>
/// 0 until the node reports what it bound (a program cannot, so free ports are picked for it), then kept across
/// restarts so peers find it where it was; and the one place that says at which address they are reached
/// (<see cref="Address"/>). Not thread-safe: its node calls it under its own lock.
/// </summary>
internal sealed class NodePortLedger(int ordinal, PortSettings settings, string address)
{
    private readonly Dictionary<string, int> _ports = new(StringComparer.Ordinal);

    /// <summary>
    /// Where the node's ports are reached: by its member URLs, by the supervisor's probes, and (for a local program) where
    /// free ports are picked. The engine decides it: the bind address for local processes; for nodes an external engine
    /// runs, their name on its network until they join, then the address they joined from (<see cref="MoveTo"/>).
    /// </summary>
    public string Address { get; private set; } = address;

    /// <summary>The node is now reached at <paramref name="address"/> (it joined from there, or its container got it).</summary>
    public void MoveTo(string address) => Address = address;

    /// <summary>
    /// Whether the current process has shown its ports are its own: it reported them, or (a program) got ready on them.
    /// A process that has not keeps no dynamic port past its exit.
    /// </summary>
    public bool Confirmed { get; private set; }

    /// <summary>The port map's ports for <paramref name="role"/>; dynamic ones are 0 unless an earlier process had them, then reused.</summary>
    public void Assign(RolePlan role)
    {
        var previous = new Dictionary<string, int>(_ports);
        _ports.Clear();
        foreach (var (name, port) in PortMap.PortsOf(role, ordinal, settings))
        {
            _ports[name] = settings.Dynamic ? previous.GetValueOrDefault(name) : port;
        }
    }

    /// <summary>A new process starts: it has confirmed nothing yet.</summary>
    public void ProcessStarted() => Confirmed = false;

    /// <summary>The node's process reported the ports it listens on.</summary>
    public void Report(IReadOnlyDictionary<string, int> ports)
    {
        foreach (var (name, port) in ports)
        {
            _ports[name] = port;
        }

        Confirmed = true;
    }

    /// <summary>A program got ready: it cannot report its ports, so being ready on them is the proof that they are its.</summary>
    public void ProgramReady() => Confirmed = true;

    /// <summary>
    /// The process has exited. A reused dynamic port may have been taken meanwhile: a process that never confirmed its
    /// ports gets fresh ones next time instead of failing on the same bind until the restart cap.
    /// </summary>
    public void ProcessExited()
    {
        if (settings.Dynamic && !Confirmed)
        {
            foreach (var name in _ports.Keys.ToArray())
            {
                _ports[name] = 0;
            }
        }
    }

    /// <summary>
    /// A program's ports: fixed ones as planned; a dynamic one not yet known is picked free now, since a program
    /// cannot report what it bound. <paramref name="picked"/> says whether any was.
    /// </summary>
    public Dictionary<string, int> ForProgram(out bool picked)
    {
        picked = false;
        var taken = new HashSet<int>(_ports.Values);
        foreach (var name in _ports.Keys.ToArray())
        {
            if (_ports[name] == 0)
            {
                _ports[name] = LoopbackPorts.PickFree(Address, taken);
                taken.Add(_ports[name]);
                picked = true;
            }
        }

        return Snapshot();
    }

    /// <summary>A copy of every port by name (0: dynamic, not yet known).</summary>
    public Dictionary<string, int> Snapshot() => new(_ports, StringComparer.Ordinal);

    /// <summary>The named port's number, or 0 while a dynamic port is not yet known (or for no name).</summary>
    public int PortOf(string? name) => name is null ? 0 : _ports.GetValueOrDefault(name);

    /// <summary>The URL of every known port, with the scheme <paramref name="role"/> plans for it (http unless it says otherwise).</summary>
    public Dictionary<string, string> Urls(RolePlan role) =>
        _ports.Where(p => p.Value > 0).ToDictionary(p => p.Key,
            p => $"{role.Ports.FirstOrDefault(planned => planned.Name == p.Key)?.Scheme ?? "http"}://{UrlHost(Address)}:{p.Value}");

    /// <summary>An IPv6 literal goes in brackets in a URL; a name or an IPv4 address as it is.</summary>
    private static string UrlHost(string address) =>
        System.Net.IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : address;
}

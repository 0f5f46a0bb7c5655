using System.Globalization;
using Corral.Node.Processes;
using Corral.Node.Text;

namespace Corral.Node.Planning;

/// <summary>
/// A role that runs a program which is not Corral (redis-server, etcd), with every guarantee a Corral node has.
/// </summary>
/// <remarks>
/// The program must stay in the foreground: the supervisor watches the process it started, so a program that
/// daemonizes (forks, lets its parent exit and lives on in a new session) escapes supervision: it is killed with the
/// node's cgroup as soon as the started process exits, or where there is no cgroup, it outlives the run. Configure it
/// not to: redis-server needs <c>--daemonize no</c> (its default, but a config file may say otherwise), etcd never
/// daemonizes. The program runs in its data folder (<c>{data}</c>), so a relative path it is given lands there: etcd
/// names a unix socket only relative to its working folder.
/// </remarks>
public sealed record ProgramSpec
{
    /// <summary>A name looked up on PATH (<c>redis-server</c>) or a path to an executable.</summary>
    public required string Executable { get; init; }

    /// <summary>Argument templates: <c>{port:NAME}</c>, <c>{data}</c> (the node's data folder), <c>{node}</c>, <c>{bind}</c>; <c>{{</c> is a brace.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Environment variables for the program; values are templates like the arguments.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// A folder under the data folder (<c>--data</c>) that <c>{data}</c> names instead of the run's <c>runs/&lt;id&gt;/data/&lt;node&gt;</c>,
    /// for a program whose files must outlive the run (a store); null: the run's folder.
    /// </summary>
    public string? DataFolder { get; init; }

    /// <summary>
    /// The folder <c>{data}</c> names for node <paramref name="nodeId"/>: <see cref="DataFolder"/> under the data folder
    /// <paramref name="dataDirectory"/>, else <c>data/&lt;node&gt;</c> in the run's folder <paramref name="runDirectory"/>.
    /// </summary>
    public string DataFolderOf(string dataDirectory, string runDirectory, string nodeId) =>
        DataFolder is { } kept ? Path.Combine(Path.GetFullPath(dataDirectory), kept) : Path.Combine(Path.GetFullPath(runDirectory), "data", nodeId);

    /// <summary>
    /// Unix sockets the program binds (templates like the arguments, <c>{data}/etcd.sock:0</c>). Before each start the
    /// supervisor removes what a killed predecessor left at these paths (etcd refuses to bind over it), and at the
    /// run's start it refuses paths too long for a socket.
    /// </summary>
    public IReadOnlyList<string> Sockets { get; init; } = [];

    /// <summary>How a person installs the program when it is missing (<c>apt-get install redis-server</c>).</summary>
    public string? InstallHint { get; init; }

    /// <summary>Whether two specs start the same process (records compare their lists by reference, this by content).</summary>
    public static bool SameProcess(ProgramSpec? a, ProgramSpec? b) =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.Executable == b.Executable && a.DataFolder == b.DataFolder &&
                                  a.Arguments.SequenceEqual(b.Arguments) && a.Sockets.SequenceEqual(b.Sockets) &&
                                  a.Environment.Count == b.Environment.Count &&
                                  a.Environment.All(e => b.Environment.TryGetValue(e.Key, out var v) && v == e.Value));

    /// <summary>The full path of <see cref="Executable"/>, or null when it cannot be found or run.</summary>
    public string? Resolve() => Executables.Resolve(Executable);

    /// <summary>The error for a program that cannot be found, saying how to install it.</summary>
    public string MissingMessage(string role) =>
        $"the program '{Executable}' for role {role} is not installed or not executable" +
        (InstallHint is { } hint ? $"; install it with: {hint}" : "; install it or put it on PATH");
}

/// <summary>How the supervisor tells that a node is ready and still alive.</summary>
public enum ProbeKind
{
    /// <summary>GET a path on a named port; 200 means yes.</summary>
    Http,

    /// <summary>A TCP connection to a named port is accepted.</summary>
    Tcp,

    /// <summary>Ready as soon as started; alive while its process runs.</summary>
    None,

    /// <summary>A connection to a unix socket (a program that listens on no TCP port) is accepted.</summary>
    UnixSocket,
}

/// <summary>
/// A readiness and liveness probe: a kind, the port it targets, for HTTP the paths, for a unix socket its path template
/// (for <see cref="ProbeKind.Http"/> too: the GET then goes through that socket instead of a port).
/// </summary>
public sealed record ProbeSpec(ProbeKind Kind, string? Port = null, string ReadyPath = "/readyz", string LivePath = "/healthz", string? SocketPath = null)
{
    /// <summary>Connects to the unix socket at <paramref name="pathTemplate"/> (a <see cref="ProgramTemplate"/>: <c>{data}/redis.sock</c>).</summary>
    public static ProbeSpec UnixSocket(string pathTemplate) => new(ProbeKind.UnixSocket, SocketPath: pathTemplate);

    /// <summary>GETs <paramref name="path"/> through the unix socket at <paramref name="pathTemplate"/> (a program that listens on no TCP port).</summary>
    public static ProbeSpec HttpOverUnixSocket(string pathTemplate, string path) => new(ProbeKind.Http, null, path, path, pathTemplate);

    public static ProbeSpec CorralNode(string port) => new(ProbeKind.Http, port);
    public static ProbeSpec HttpPath(string port, string path) => new(ProbeKind.Http, port, path, path);
    public static ProbeSpec Tcp(string port) => new(ProbeKind.Tcp, port);
    public static ProbeSpec Nothing { get; } = new(ProbeKind.None);
}

/// <summary>Expands a program role's argument and environment templates.</summary>
public static class ProgramTemplate
{
    /// <summary>Fills in <c>{port:NAME}</c>, <c>{data}</c>, <c>{node}</c> and <c>{bind}</c>; throws on anything else.</summary>
    public static string Expand(string template, IReadOnlyDictionary<string, int> ports, string data, string nodeId, string bind) =>
        Placeholders.Expand(template, name => name switch
        {
            "data" => data,
            "node" => nodeId,
            "bind" => bind,
            _ when name.StartsWith("port:", StringComparison.Ordinal) && ports.TryGetValue(name[5..], out var port) =>
                port.ToString(CultureInfo.InvariantCulture),
            _ => throw new FormatException(Unknown(template, name, ports.Keys)),
        });

    /// <summary>Why <paramref name="template"/> cannot be expanded with these port names, or null when it can.</summary>
    public static string? Check(string template, IReadOnlyCollection<string> portNames) =>
        Placeholders.Check(template,
            name => name is "data" or "node" or "bind" || (name.StartsWith("port:", StringComparison.Ordinal) && portNames.Contains(name[5..])),
            name => Unknown(template, name, portNames));

    private static string Unknown(string template, string name, IEnumerable<string> ports) =>
        $"'{{{name}}}' in '{template}' is not a placeholder; valid: {{data}}, {{node}}, {{bind}}, " +
        string.Join(", ", ports.Select(p => $"{{port:{p}}}"));
}

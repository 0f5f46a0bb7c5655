using System.Globalization;
using System.Net;
using Corral.Node.Nodes;
using Corral.Node.Text;
using Corral.Supervisor.Containers;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// A run's nodes as containers (<c>corral up --engine docker</c>): the bridge network the run creates, a fixed address
/// per node in its subnet (known before the node starts, so member URLs and probes need no lookup), and how one node's
/// process becomes a foreground <c>docker run</c> the supervisor watches like any process (SIGTERM proxied for drain,
/// output streamed, the container's exit code its own). Everything it creates carries <see cref="RunLabel"/> and
/// <see cref="SupervisorLabel"/>, so a run whose supervisor died can be found and removed (<see cref="PruneDeadRunsAsync"/>).
/// </summary>
internal sealed class DockerRunNetwork
{
    public const string RunLabel = "corral.run";
    public const string SupervisorLabel = "corral.supervisor";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a node in a container goes on without an answer from the control API before it stops on its own: longer
    /// than a brief partition (a cowboy cut off its network for 10 s plays on), short enough that a SIGKILLed
    /// supervisor's containers are gone within about half a minute.
    /// </summary>
    public static readonly TimeSpan ControlLossGrace = TimeSpan.FromSeconds(15);

    private readonly Dictionary<string, string> _addresses = new(StringComparer.Ordinal);
    private readonly uint _subnetBase;
    private readonly uint _subnetMask;
    private readonly uint _gateway;
    private uint _next;

    private DockerRunNetwork(string runId, string name, string image, uint subnetBase, int prefixLength, uint gateway)
    {
        RunId = runId;
        Name = name;
        Image = image;
        _subnetBase = subnetBase;
        _subnetMask = prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);
        _gateway = gateway;
        _next = gateway + 1;
    }

    public string RunId { get; }

    /// <summary>The network's name, also the prefix of every container's name.</summary>
    public string Name { get; }

    /// <summary>Corral's image, which runs every Corral node; a program role runs from <c>corral-PROGRAM</c> with the same tag.</summary>
    public string Image { get; }

    /// <summary>The host's address on the network: the control API listens there for the nodes.</summary>
    public string Gateway => Format(_gateway);

    /// <summary>The label value that names this supervisor process (pid and start time, so a reused pid is not mistaken for it).</summary>
    public static string SupervisorIdentity => Identity(Environment.ProcessId) ?? Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Creates the run's network (Docker picks the subnet) and reads its subnet and gateway back.</summary>
    public static async Task<DockerRunNetwork> CreateAsync(string runId, string image, CancellationToken cancellationToken)
    {
        var name = "corral-" + runId;
        // Docker gives a fixed address (--ip) only on a network whose subnet was given: let it pick a free subnet
        // first, then make the run's network on that subnet, named as the user asked it.
        await CreateNetworkAsync(name, [], cancellationToken);
        var picked = await DockerAsync(cancellationToken, "network", "inspect", "--format",
            "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", name);
        await RemoveNetworkAsync(name);
        if (picked.Split(' ', StringSplitOptions.RemoveEmptyEntries) is not [var pickedSubnet, var pickedGateway])
        {
            throw new SupervisorException($"docker network {name} got no IPv4 subnet and gateway ('{picked}')");
        }

        await CreateNetworkAsync(name, ["--subnet", pickedSubnet, "--gateway", pickedGateway], cancellationToken);
        var inspected = await DockerAsync(cancellationToken, "network", "inspect", "--format",
            "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", name);
        var parts = inspected.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || parts[0].Split('/') is not [var subnet, var prefix] || !IPAddress.TryParse(subnet, out var subnetIp)
            || !IPAddress.TryParse(parts[1], out var gatewayIp) || !int.TryParse(prefix, CultureInfo.InvariantCulture, out var length) || length is < 8 or > 28)
        {
            await RemoveNetworkAsync(name);
            throw new SupervisorException($"docker network {name} has no IPv4 subnet and gateway Corral can use ('{inspected}')");
        }

        return new DockerRunNetwork(runId, name, image, ToUInt(subnetIp), length, ToUInt(gatewayIp));
    }

    private static Task<string> CreateNetworkAsync(string name, IReadOnlyList<string> subnet, CancellationToken cancellationToken) =>
        DockerAsync(cancellationToken, ["network", "create", "--driver", "bridge", "--label", $"{RunLabel}={name["corral-".Length..]}",
            "--label", $"{SupervisorLabel}={SupervisorIdentity}", .. subnet, name]);

    /// <summary>The node's fixed address on the network, the same across its restarts.</summary>
    public string AddressOf(string nodeId)
    {
        lock (_addresses)
        {
            if (!_addresses.TryGetValue(nodeId, out var address))
            {
                var next = _next++;
                if ((next & _subnetMask) != _subnetBase || (next | _subnetMask) == uint.MaxValue)
                {
                    throw new SupervisorException($"docker network {Name} has no address left for {nodeId}");
                }

                _addresses[nodeId] = address = Format(next);
            }

            return address;
        }
    }

    public string ContainerName(string nodeId) => $"{Name}-{nodeId}";

    /// <summary>
    /// <paramref name="launch"/> (a Corral node or a program) as a foreground <c>docker run</c>: the container gets the
    /// node's fixed address and name on the network, the data folder mounted at the same path (the run folder, stores'
    /// files and the credential file, which stays a private file and never an argument or variable) and so is each of
    /// the role's other <paramref name="folders"/> (a store the topology placed elsewhere), and the same environment with
    /// the node's own address to bind. A Corral node is also told to stop once the control API has not answered for
    /// <see cref="ControlLossGrace"/>: nothing else ends its container when the supervisor is SIGKILLed.
    /// </summary>
    public Launch Wrap(Launch launch, string nodeId, string dataDirectory, IReadOnlyList<string> folders, IReadOnlyList<string> containerArguments,
        string? programEntrypoint)
    {
        var address = AddressOf(nodeId);
        var arguments = new List<string>
        {
            "run", "--rm", "--sig-proxy=true", "--name", ContainerName(nodeId), "--hostname", nodeId,
            "--label", $"{RunLabel}={RunId}", "--label", $"{SupervisorLabel}={SupervisorIdentity}",
            "--network", Name, "--ip", address, "--volume", $"{dataDirectory}:{dataDirectory}",
        };
        foreach (var kept in folders.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            // Made here, not by Docker, which would create a missing bind source as root with its own mode.
            Directory.CreateDirectory(kept);
            arguments.AddRange(["--volume", $"{kept}:{kept}"]);
        }

        if (programEntrypoint is null)
        {
            arguments.AddRange(["--env", $"{NodeEnvironment.ControlLossGrace}={Durations.Format(ControlLossGrace)}"]);
        }

        if (launch.WorkingDirectory is { } folder)
        {
            arguments.AddRange(["--workdir", folder]);
        }

        foreach (var (name, value) in launch.Environment)
        {
            arguments.AddRange(["--env", $"{name}={value}"]);
        }

        string image = Image;
        if (programEntrypoint is { } program)
        {
            image = ProgramImage(program);
            arguments.AddRange(["--entrypoint", $"/usr/local/bin/{program}"]);
        }

        arguments.Add(image);
        arguments.AddRange(containerArguments);
        return new Launch("docker", arguments, new Dictionary<string, string>()) { CredentialFile = launch.CredentialFile };
    }

    /// <summary>The image a program role runs from: <c>corral image --program NAME</c> with Corral's image's tag.</summary>
    public string ProgramImage(string program) => Corral.Node.Planning.ProgramImage.For(Image, program);

    /// <summary>Removes the node's container if it is still there (its <c>docker run</c> was killed, or a leftover of an earlier instance).</summary>
    public Task RemoveContainerAsync(string nodeId) => DockerCli.RunAsync(["rm", "--force", ContainerName(nodeId)], null, CancellationToken.None);

    /// <summary>Removes every container of the run still there, then its network; returns what it removed.</summary>
    public Task<IReadOnlyList<string>> RemoveAsync() => RemoveRunAsync(RunId);

    /// <summary>
    /// Removes the containers, networks and volumes labelled with a run whose supervisor is no longer running (a
    /// SIGKILLed <c>corral up</c>); one line per run saying what went.
    /// </summary>
    public static async Task<IReadOnlyList<string>> PruneDeadRunsAsync(CancellationToken cancellationToken = default)
    {
        var lines = new List<string>();
        var dead = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var kind in (string[])["container", "network", "volume"])
        {
            var listed = await DockerCli.RunAsync(kind == "container"
                ? ["ps", "--all", "--filter", $"label={RunLabel}", "--format", $"{{{{.Label \"{RunLabel}\"}}}} {{{{.Label \"{SupervisorLabel}\"}}}}"]
                : [kind, "ls", "--filter", $"label={RunLabel}", "--format", $"{{{{.Label \"{RunLabel}\"}}}} {{{{.Label \"{SupervisorLabel}\"}}}}"], null, cancellationToken);
            if (listed.ExitCode != 0)
            {
                continue;
            }

            foreach (var line in listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (line.Split(' ') is [var run, var supervisor] && !IsAlive(supervisor))
                {
                    dead.Add(run);
                }
            }
        }

        foreach (var run in dead)
        {
            var removed = await RemoveRunAsync(run);
            lines.Add($"removed what the dead run {run} left on Docker: {(removed.Count == 0 ? "nothing" : string.Join(", ", removed))}");
        }

        return lines;
    }

    private static async Task<IReadOnlyList<string>> RemoveRunAsync(string runId)
    {
        var removed = new List<string>();
        var filter = $"label={RunLabel}={runId}";
        var containers = await DockerCli.RunAsync(["ps", "--all", "--filter", filter, "--format", "{{.Names}}"], null, CancellationToken.None);
        var names = Lines(containers.Output);
        if (names.Length > 0 && (await DockerCli.RunAsync(["rm", "--force", "--volumes", .. names], null, CancellationToken.None)).ExitCode == 0)
        {
            removed.AddRange(names.Select(n => "container " + n));
        }

        foreach (var kind in (string[])["network", "volume"])
        {
            var listed = await DockerCli.RunAsync([kind, "ls", "--filter", filter, "--format", "{{.Name}}"], null, CancellationToken.None);
            var found = Lines(listed.Output);
            if (found.Length > 0 && (await DockerCli.RunAsync([kind, "rm", .. found], null, CancellationToken.None)).ExitCode == 0)
            {
                removed.AddRange(found.Select(n => $"{kind} {n}"));
            }
        }

        return removed;
    }

    /// <summary>Whether the supervisor a label names (pid-starttime) still runs on this host.</summary>
    private static bool IsAlive(string identity)
    {
        var dash = identity.IndexOf('-');
        var pidText = dash < 0 ? identity : identity[..dash];
        return int.TryParse(pidText, CultureInfo.InvariantCulture, out var pid) && Identity(pid) is { } current
            && (dash < 0 || current == identity);
    }

    private static string? Identity(int pid) =>
        ProcFs.StatFields(pid) is { Length: > 19 } fields && fields[0] is not ("Z" or "X")
            ? $"{pid.ToString(CultureInfo.InvariantCulture)}-{fields[19]}"
            : null;

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task RemoveNetworkAsync(string name) => await DockerCli.RunAsync(["network", "rm", name], null, CancellationToken.None);

    private static async Task<string> DockerAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        (int ExitCode, string Output, string Errors) result;
        try
        {
            result = await DockerCli.RunAsync(arguments, null, timeout.Token);
        }
        catch (InvalidOperationException e)
        {
            throw new SupervisorException($"--engine docker: {e.Message}");
        }

        if (result.ExitCode != 0)
        {
            throw new SupervisorException($"--engine docker: docker {string.Join(' ', arguments)} failed: {result.Errors.Trim()}");
        }

        return result.Output.Trim();
    }

    private static uint ToUInt(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return bytes.Length == 4 ? (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]) : throw new SupervisorException($"{address} is not IPv4");
    }

    private static string Format(uint address) => new IPAddress([(byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address]).ToString();
}

using System.Globalization;
using System.Text.Json;
using Corral.Node.Security;
using Corral.Node.Text;

namespace Corral.Node.Nodes;

/// <summary>Everything a node process knows about itself and its run, read from its environment and arguments.</summary>
public sealed record NodeContext
{
    public required string NodeId { get; init; }
    public required string Role { get; init; }
    /// <summary>This node instance's credential (<see cref="Security.Credential"/>), sent as the bearer of its calls.</summary>
    public required string Token { get; init; }

    /// <summary>Checks callers' credentials against the run's public key.</summary>
    public required CredentialVerifier Credentials { get; init; }

    /// <summary>Which incarnation of <see cref="NodeId"/> this process is, as its credential says (1, 2, ...).</summary>
    public long Instance { get; init; } = 1;
    public required Uri ControlUrl { get; init; }
    public required string RunId { get; init; }
    public required string RunDirectory { get; init; }
    public required string DataDirectory { get; init; }
    public long Seed { get; init; }

    /// <summary>Ports by name (<c>http</c>, <c>admin</c>); 0 means any free port.</summary>
    public required IReadOnlyDictionary<string, int> Ports { get; init; }

    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>How long the control API may go unanswered before the node stops (<see cref="NodeEnvironment.ControlLossGrace"/>); null: never.</summary>
    public TimeSpan? ControlLossGrace { get; init; }

    /// <summary>The app's config, as the supervisor serves it; filled in by <see cref="Control.ControlClient"/> at start.</summary>
    public JsonElement Config { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public int Port(string name = "http") => Ports.TryGetValue(name, out var port) ? port : 0;

    /// <summary>
    /// Reads a node's context from its environment, with command-line overrides for a node started by hand. The
    /// credential comes from its file (<see cref="NodeEnvironment.CredentialFile"/> or <paramref name="credentialFile"/>),
    /// which is removed once read; the node id and instance are the credential's. It makes this process undumpable
    /// (<see cref="ProcessHardening"/>): call it only in a node's own process.
    /// </summary>
    public static NodeContext FromEnvironment(string role, string? nodeId = null, string? join = null, string? bindAddress = null,
        IReadOnlyDictionary<string, int>? ports = null, Func<string, string?>? environment = null, string? credentialFile = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string Required(string name, string? overriding) =>
            overriding ?? environment(name) ?? throw new InvalidOperationException(
                $"{name} is not set: a node is started by 'corral up', or by hand with --join URL and --credential-file PATH");

        var control = Required(NodeEnvironment.ControlUrl, join);
        if (!Uri.TryCreate(control, UriKind.Absolute, out var controlUrl) || controlUrl.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException($"the control API address '{control}' is not an http:// URL");
        }

        TimeSpan? controlLossGrace = null;
        if (environment(NodeEnvironment.ControlLossGrace) is { } graceText)
        {
            controlLossGrace = Durations.TryParse(graceText, out var grace) && grace > TimeSpan.Zero ? grace : throw new InvalidOperationException(
                $"{NodeEnvironment.ControlLossGrace} is '{graceText}', not {Durations.Expected} above 0");
        }

        // Before the credential is in memory: from here on, processes of the same user (a spec this node runs) can
        // neither read this process's memory, environ or descriptors nor attach to it.
        ProcessHardening.MakeUndumpable();
        var (token, fileKey) = CredentialFile.ReadAndDelete(Required(NodeEnvironment.CredentialFile, credentialFile));
        var publicKey = fileKey ?? Required(NodeEnvironment.PublicKey, null);
        CredentialVerifier verifier;
        try
        {
            verifier = CredentialVerifier.FromPublicKey(publicKey);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }

        if (verifier.Verify(token, out var error) is not { } own)
        {
            throw new InvalidOperationException($"the credential is not valid for the run's public key: {error}");
        }

        if (nodeId is not null && nodeId != own.NodeId)
        {
            throw new InvalidOperationException($"--id {nodeId} does not match the credential, which is {own.NodeId}'s");
        }

        if (own.Role != role)
        {
            throw new InvalidOperationException($"the credential is for role {own.Role}, not {role}");
        }

        var dataDirectory = environment(NodeEnvironment.DataDirectory) ?? Path.GetFullPath(".corral");
        var runId = own.RunId;
        return new NodeContext
        {
            NodeId = own.NodeId,
            Instance = own.Instance,
            Role = role,
            Token = token,
            Credentials = CredentialVerifier.FromPublicKey(publicKey, runId),
            ControlUrl = controlUrl,
            RunId = runId,
            RunDirectory = environment(NodeEnvironment.RunDirectory) ?? Path.Combine(dataDirectory, "runs", runId),
            DataDirectory = dataDirectory,
            Seed = long.TryParse(environment(NodeEnvironment.Seed), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : 0,
            Ports = ports ?? ParsePorts(environment(NodeEnvironment.Ports)),
            BindAddress = bindAddress ?? environment(NodeEnvironment.BindAddress) ?? "127.0.0.1",
            ControlLossGrace = controlLossGrace,
        };
    }

    public static IReadOnlyDictionary<string, int> ParsePorts(string? text)
    {
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in (text ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=');
            if (equals <= 0 || !int.TryParse(part[(equals + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            {
                throw new InvalidOperationException($"{NodeEnvironment.Ports} entry '{part}' is not name=port");
            }

            ports[part[..equals]] = port;
        }

        if (ports.Count == 0)
        {
            ports["http"] = 0;
        }

        return ports;
    }

    public static string FormatPorts(IReadOnlyDictionary<string, int> ports) =>
        string.Join(';', ports.Select(p => $"{p.Key}={p.Value.ToString(CultureInfo.InvariantCulture)}"));
}

namespace Corral.Node.Nodes;

/// <summary>
/// The environment variables through which the supervisor hands a node its identity. The node's credential is never
/// in them (a spec the node starts inherits its environment): only the path of a private file the node reads and removes.
/// </summary>
public static class NodeEnvironment
{
    public const string NodeId = "CORRAL_NODE_ID";

    /// <summary>The path of the node's credential file (<see cref="Security.CredentialFile"/>), removed once read.</summary>
    public const string CredentialFile = "CORRAL_CREDENTIAL_FILE";

    /// <summary>The run's public key (not secret): what a node checks its callers' credentials with.</summary>
    public const string PublicKey = "CORRAL_PUBLIC_KEY";
    public const string ControlUrl = "CORRAL_CONTROL_URL";
    public const string RunId = "CORRAL_RUN_ID";
    public const string RunDirectory = "CORRAL_RUN_DIR";
    public const string DataDirectory = "CORRAL_DATA_DIR";
    public const string Seed = "CORRAL_SEED";

    /// <summary>Ports as <c>name=port;name=port</c>; 0 means "bind any free port and report it".</summary>
    public const string Ports = "CORRAL_PORTS";

    public const string BindAddress = "CORRAL_BIND";

    /// <summary>
    /// A duration (<c>10s</c>): the node stops, exiting 1, once the control API has not answered for that long. Set by
    /// engines whose nodes do not die with the supervisor (containers); unset, the node never gives up on it.
    /// </summary>
    public const string ControlLossGrace = "CORRAL_CONTROL_LOSS_GRACE";
}

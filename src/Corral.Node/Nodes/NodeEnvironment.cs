namespace Corral.Node.Nodes;

/// <summary>
/// The environment variables through which the supervisor hands a node its identity and secrets
/// (never argv, which every local user can read in /proc).
/// </summary>
public static class NodeEnvironment
{
    public const string NodeId = "CORRAL_NODE_ID";
    public const string Token = "CORRAL_TOKEN";
    public const string ControlUrl = "CORRAL_CONTROL_URL";
    public const string RunId = "CORRAL_RUN_ID";
    public const string RunDirectory = "CORRAL_RUN_DIR";
    public const string DataDirectory = "CORRAL_DATA_DIR";
    public const string Seed = "CORRAL_SEED";

    /// <summary>Ports as <c>name=port;name=port</c>; 0 means "bind any free port and report it".</summary>
    public const string Ports = "CORRAL_PORTS";

    public const string BindAddress = "CORRAL_BIND";
}

using Corral.Node.Planning;
using Corral.Node.Security;

namespace Corral.Render;

/// <summary>
/// The credential files handed to rendered nodes, one per planned node (keyed by node id), in the format
/// <see cref="CredentialFile"/> reads, plus the run's signing key and run id for the supervisor (<c>supervisor.key</c>, in
/// the format <see cref="SigningKey"/> reads), so the
/// supervisor started with <c>--engine external</c> accepts exactly the nodes it was rendered with.
/// </summary>
public sealed class RenderedCredentials
{
    public const string SupervisorKeyFile = "supervisor.key";

    private RenderedCredentials(IReadOnlyDictionary<string, string> files) => Files = files;

    /// <summary>File name → content: <c>supervisor.key</c> and one file per node id.</summary>
    public IReadOnlyDictionary<string, string> Files { get; }

    /// <summary>Issues a credential for every node of <paramref name="plan"/> with a fresh key for the run <paramref name="runId"/>.</summary>
    public static RenderedCredentials Issue(AppPlan plan, string runId, IReadOnlyCollection<string> outcomeRoles)
    {
        using var issuer = CredentialIssuer.Create(runId);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [SupervisorKeyFile] = SigningKey.Format(issuer),
        };
        foreach (var role in plan.Roles.Where(r => r.Program is null))
        {
            for (var i = 1; i <= role.Count; i++)
            {
                var nodeId = role.NodeId(i);
                files[nodeId] = issuer.IssueNode(nodeId, 1, role.Role, outcomeRoles.Contains(role.Role)) + "\n" + issuer.PublicKey + "\n";
            }
        }

        return new RenderedCredentials(files);
    }

    /// <summary>Stand-in values with the same file names, for output that must not change between renders (golden files).</summary>
    public static RenderedCredentials Placeholders(AppPlan plan)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal) { [SupervisorKeyFile] = "<signing key>\n" };
        foreach (var role in plan.Roles.Where(r => r.Program is null))
        {
            foreach (var nodeId in role.NodeIds())
            {
                files[nodeId] = $"<credential of {nodeId}>\n";
            }
        }

        return new RenderedCredentials(files);
    }
}

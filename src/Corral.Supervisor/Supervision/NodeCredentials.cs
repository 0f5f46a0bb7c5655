using Corral.Node.Control;
using Corral.Node.Security;
using Corral.Node.Storage;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// The run's credentials: its signer, the operator's credential, and each node instance's, delivered as a private file
/// in <c>&lt;run&gt;/secrets/</c> (0700) that the node reads and removes as it starts. Only the roles the app module names
/// get the outcome scope.
/// </summary>
internal sealed class NodeCredentials : IDisposable
{
    private readonly HashSet<string> _outcomeRoles;

    public NodeCredentials(CredentialIssuer issuer, RunFolder run, IEnumerable<string> outcomeRoles)
    {
        Issuer = issuer;
        _outcomeRoles = outcomeRoles.ToHashSet(StringComparer.Ordinal);
        SecretsPath = run.SecretsPath;
        PrivateFiles.CreateFolder(SecretsPath);
        if (!OperatingSystem.IsWindows())
        {
            // An existing folder (a resumed run's) keeps its mode when created; make sure it is private.
            File.SetUnixFileMode(SecretsPath, PrivateFiles.OwnerOnlyFolder);
        }

        Operator = issuer.IssueOperator();
    }

    public CredentialIssuer Issuer { get; }

    /// <summary>The command line's and the dashboard's credential.</summary>
    public string Operator { get; }

    /// <summary>Where the credential files wait for their nodes.</summary>
    public string SecretsPath { get; }

    public bool ReportsOutcome(string role) => _outcomeRoles.Contains(role);

    /// <summary>Writes the credential of <paramref name="nodeId"/>'s instance <paramref name="instance"/> to a fresh file; returns its path.</summary>
    public string WriteFile(string nodeId, long instance, string role)
    {
        var credential = Issuer.IssueNode(nodeId, instance, role, ReportsOutcome(role));
        var path = Path.Combine(SecretsPath, $"{nodeId}.{instance}.{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6))}");
        CredentialFile.Write(path, credential, Issuer.PublicKey);
        return path;
    }

    /// <summary>A node-scoped credential for a node started by hand: never the outcome scope, whatever its role.</summary>
    public IssuedCredential ForHand(string nodeId, long instance, string role) =>
        new(nodeId, role, Issuer.IssueNode(nodeId, instance, role, reportsOutcome: false), Issuer.PublicKey);

    /// <summary>Removes a credential file its node did not read (it crashed before, or never started).</summary>
    public static void Discard(string? path)
    {
        if (path is null) return;
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The run's end removes the folder.
        }
    }

    /// <summary>Removes every credential file left (the run has ended).</summary>
    public void DeleteAll()
    {
        try
        {
            if (Directory.Exists(SecretsPath)) Directory.Delete(SecretsPath, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    public void Dispose() => Issuer.Dispose();
}

using System.Text;
using Corral.Node.Security;

namespace Corral.Node.Tests.Security;

/// <summary>Credentials: what the issuer signs, what a verifier accepts, and how a node receives its own.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CredentialTests
{
    private static readonly CredentialIssuer Issuer = CredentialIssuer.Create("run-a");

    [Fact]
    public void A_node_credential_verifies_with_the_public_key_alone_and_carries_its_claims()
    {
        var text = Issuer.IssueNode("worker-2", 3, "workqueue.worker", reportsOutcome: false);
        var verifier = CredentialVerifier.FromPublicKey(Issuer.PublicKey, "run-a");

        var claims = verifier.Verify(text, out var error);

        Assert.NotNull(claims);
        Assert.Equal("", error);
        Assert.Equal(("run-a", "worker-2", 3L, "workqueue.worker"), (claims.RunId, claims.NodeId, claims.Instance, claims.Role));
        Assert.Equal([CredentialScopes.Node], claims.Scopes);
        Assert.False(claims.Has(CredentialScopes.Outcome));
        Assert.False(claims.IsOperator);
    }

    [Fact]
    public void Only_an_outcome_role_gets_the_outcome_scope_and_the_operator_gets_the_operator_scope_only()
    {
        var controller = Issuer.Verifier.Verify(Issuer.IssueNode("controller", 1, "workqueue.controller", reportsOutcome: true), out _)!;
        var operatorClaims = Issuer.Verifier.Verify(Issuer.IssueOperator(), out _)!;

        Assert.Equal([CredentialScopes.Node, CredentialScopes.Outcome], controller.Scopes);
        Assert.True(operatorClaims.IsOperator);
        Assert.Equal([CredentialScopes.Operator], operatorClaims.Scopes);
        Assert.Equal("the operator", operatorClaims.ToString());
    }

    [Fact]
    public void Changed_claims_another_runs_key_another_run_id_and_garbage_are_refused()
    {
        var text = Issuer.IssueNode("worker-1", 1, "workqueue.worker", reportsOutcome: false);
        var parts = text.Split('.');
        // The same signature over claims that say "controller" with the outcome scope.
        var forged = parts[0] + "." + Convert.ToBase64String(Encoding.UTF8.GetBytes(
            """{"run":"run-a","node":"controller","inst":1,"role":"workqueue.controller","scopes":["node","outcome"]}""")).TrimEnd('=').Replace('+', '-').Replace('/', '_') + "." + parts[2];
        using var other = CredentialIssuer.Create("run-a");
        using var otherRun = CredentialIssuer.Create("run-b");
        var verifier = CredentialVerifier.FromPublicKey(Issuer.PublicKey, "run-a");
        var sameKeyOtherRun = CredentialVerifier.FromPublicKey(Issuer.PublicKey, "run-b");

        Assert.Null(verifier.Verify(forged, out var forgedError));
        Assert.Contains("signature", forgedError);
        Assert.Null(verifier.Verify(other.IssueOperator(), out var keyError));
        Assert.Contains("signature", keyError);
        Assert.Null(sameKeyOtherRun.Verify(text, out var runError));
        Assert.Contains("issued for run run-a", runError);
        Assert.Null(verifier.Verify(otherRun.IssueOperator(), out _));
        foreach (var garbage in new[] { "", "test-token", "c1.", "c1..", "c1.!!!.???", text[..^4] + "AAAA", text + "x", new string('a', 5000) })
        {
            Assert.Null(verifier.Verify(garbage, out var garbageError));
            Assert.NotEqual("", garbageError);
        }
    }

    [Fact]
    public void A_public_key_that_is_not_one_is_a_clear_error()
    {
        var error = Assert.Throws<FormatException>(() => CredentialVerifier.FromPublicKey("bm90IGEga2V5"));
        Assert.Contains("public key", error.Message);
    }

    [Fact]
    public void The_credential_file_is_created_0600_and_is_gone_once_read()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("worker-1.1");
        var text = Issuer.IssueNode("worker-1", 1, "counter.worker", reportsOutcome: false);

        CredentialFile.Write(path, text, Issuer.PublicKey);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Throws<IOException>(() => CredentialFile.Write(path, text, Issuer.PublicKey));
        var (credential, publicKey) = CredentialFile.ReadAndDelete(path);

        Assert.Equal((text, Issuer.PublicKey), (credential, publicKey));
        Assert.False(File.Exists(path));
        var missing = Assert.Throws<InvalidOperationException>(() => CredentialFile.ReadAndDelete(path));
        Assert.Contains(path, missing.Message);
    }

    [Fact]
    public void A_credential_file_others_could_read_is_refused_and_removed()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("open");
        File.WriteAllText(path, "c1.x.y\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = Assert.Throws<InvalidOperationException>(() => CredentialFile.ReadAndDelete(path));

        Assert.Contains("chmod 600", error.Message);
        Assert.False(File.Exists(path));
    }
}

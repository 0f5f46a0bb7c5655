using Corral.Node.Security;

namespace Corral.Node.Tests.Security;

/// <summary>The signing key file that carries a rendered run's key and run id to its supervisor.</summary>
public sealed class SigningKeyTests
{
    [Fact]
    public void A_key_read_back_signs_credentials_the_original_issuer_verifies_for_the_same_run()
    {
        using var rendered = CredentialIssuer.Create("20261205-200000-ab12");
        var key = SigningKey.Parse(SigningKey.Format(rendered), "supervisor.key");
        Assert.Equal("20261205-200000-ab12", key.RunId);
        using var loaded = CredentialIssuer.FromKey(key);
        Assert.Equal(rendered.PublicKey, loaded.PublicKey);
        var credential = rendered.IssueNode("cowboy-1", 1, "shootout.cowboy", reportsOutcome: false);
        Assert.Equal("cowboy-1", loaded.Verifier.Verify(credential, out _)?.NodeId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n")]
    [InlineData("run-id 20261205-200000-ab12\nkey not-base64!\n")]
    [InlineData("run-id ../x\nkey AAAA\n")]
    public void A_file_that_is_not_a_signing_key_is_refused_saying_what_is_expected(string text)
    {
        var e = Assert.Throws<InvalidOperationException>(() => SigningKey.Parse(text, "supervisor.key"));
        Assert.StartsWith("supervisor.key", e.Message);
    }
}

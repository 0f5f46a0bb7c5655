using System.Security.Cryptography;
using System.Text.Json;

namespace Corral.Node.Security;

/// <summary>
/// The run's signer: an ECDSA P-256 key made when the supervisor starts and held only in its memory. It signs each node
/// instance's credential and the operator's; <see cref="PublicKey"/> (not secret) lets any node check them offline.
/// </summary>
public sealed class CredentialIssuer : IDisposable
{
    private readonly ECDsa _key;
    private readonly Lock _lock = new();

    private CredentialIssuer(ECDsa key, string runId)
    {
        _key = key;
        RunId = runId;
        PublicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
        Verifier = CredentialVerifier.FromPublicKey(PublicKey, runId);
    }

    /// <summary>A fresh key for the run <paramref name="runId"/>.</summary>
    public static CredentialIssuer Create(string runId) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), runId);

    /// <summary>The issuer of a run whose key was made elsewhere (<c>corral render</c>), from its <see cref="SigningKey"/>.</summary>
    public static CredentialIssuer FromKey(SigningKey key)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportPkcs8PrivateKey(Convert.FromBase64String(key.PrivateKey), out _);
            return new(ecdsa, key.RunId);
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    public string RunId { get; }

    /// <summary>The signing key, base64 PKCS#8, for a supervisor that runs on another engine than the one that rendered it.</summary>
    public string ExportPrivateKey() => Convert.ToBase64String(_key.ExportPkcs8PrivateKey());

    /// <summary>The public key, base64 SubjectPublicKeyInfo: what a node needs to check a caller's credential.</summary>
    public string PublicKey { get; }

    /// <summary>A verifier for this issuer's credentials (of this run only).</summary>
    public CredentialVerifier Verifier { get; }

    /// <summary>Signs <paramref name="claims"/>; their run id must be this issuer's.</summary>
    public string Issue(Credential claims)
    {
        if (claims.RunId != RunId)
        {
            throw new ArgumentException($"the claims are for run {claims.RunId}, the issuer signs for run {RunId}", nameof(claims));
        }

        var signed = CompactCredential.SignedPart(JsonSerializer.SerializeToUtf8Bytes(claims, SecurityJson.Default.Credential));
        byte[] signature;
        lock (_lock)
        {
            signature = _key.SignData(CompactCredential.Ascii(signed), HashAlgorithmName.SHA256);
        }

        return CompactCredential.Join(signed, signature);
    }

    public string IssueNode(string nodeId, long instance, string role, bool reportsOutcome) =>
        Issue(Credential.ForNode(RunId, nodeId, instance, role, reportsOutcome));

    public string IssueOperator() => Issue(Credential.ForOperator(RunId));

    public void Dispose() => _key.Dispose();
}

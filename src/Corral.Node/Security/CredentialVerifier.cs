using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Corral.Node.Security;

/// <summary>
/// Checks a credential against the run's public key: the signature, the shape of its claims, and (when known) that it
/// was issued for this run. A credential seen before is remembered, so the hot paths (a coordinator's forwards, a
/// cowboy's shots) pay for one signature check per caller, not per request.
/// </summary>
public sealed class CredentialVerifier
{
    public const string Scheme = "Bearer";

    // A run has a few hundred nodes at most, each with one credential per incarnation; past this, checks are not cached
    // (so a stranger sending many forged credentials cannot grow the memory: only valid ones are ever kept).
    private const int MaxRemembered = 4096;

    private readonly ECDsa _key;
    private readonly string? _runId;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<string, Credential> _verified = new(StringComparer.Ordinal);

    private CredentialVerifier(ECDsa key, string? runId)
    {
        _key = key;
        _runId = runId;
    }

    /// <summary>
    /// A verifier from the run's public key (base64 SubjectPublicKeyInfo); with <paramref name="runId"/> it also refuses
    /// credentials of any other run. Throws <see cref="FormatException"/> when the text is not a P-256 public key.
    /// </summary>
    public static CredentialVerifier FromPublicKey(string publicKey, string? runId = null)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey.Trim()), out _);
            if (key.KeySize != 256)
            {
                throw new FormatException($"the run's public key must be an ECDSA P-256 key, not {key.KeySize} bits");
            }
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new FormatException($"the run's public key is not a base64 SubjectPublicKeyInfo: {e.Message}", e);
        }
        catch (FormatException)
        {
            key.Dispose();
            throw;
        }

        return new CredentialVerifier(key, runId);
    }

    /// <summary>The claims of <paramref name="text"/> when it is a valid credential of this run; otherwise null and why.</summary>
    public Credential? Verify(string? text, out string error)
    {
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "no credential";
            return null;
        }

        if (_verified.TryGetValue(text, out var known))
        {
            return known;
        }

        if (!CompactCredential.TrySplit(text, out var signed, out var json, out var signature))
        {
            error = "not a Corral credential";
            return null;
        }

        bool valid;
        lock (_lock)
        {
            valid = _key.VerifyData(CompactCredential.Ascii(signed), signature, HashAlgorithmName.SHA256);
        }

        if (!valid)
        {
            error = "the signature is not the run's";
            return null;
        }

        Credential? claims;
        try
        {
            claims = JsonSerializer.Deserialize(json, SecurityJson.Default.Credential);
        }
        catch (JsonException)
        {
            claims = null;
        }

        if (claims is null || claims.Scopes is null || claims.NodeId is null || claims.Role is null || claims.RunId is null)
        {
            error = "its claims are malformed";
            return null;
        }

        if (_runId is not null && claims.RunId != _runId)
        {
            error = $"it was issued for run {claims.RunId}, not this run ({_runId})";
            return null;
        }

        if (_verified.Count < MaxRemembered)
        {
            _verified.TryAdd(text, claims);
        }

        return claims;
    }

    /// <summary>Whether the request's bearer is exactly <paramref name="expected"/>, compared in constant time.</summary>
    public static bool Presents(HttpRequest request, string expected)
    {
        var header = request.Headers.Authorization.ToString();
        if (expected.Length == 0 || !header.StartsWith(Scheme + " ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[(Scheme.Length + 1)..].Trim()), Encoding.UTF8.GetBytes(expected));
    }

    /// <summary>The claims of the request's <c>Authorization: Bearer</c> credential; null and why when it has none or a bad one.</summary>
    public Credential? Verify(HttpRequest request, out string error)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith(Scheme + " ", StringComparison.OrdinalIgnoreCase))
        {
            error = "no credential";
            return null;
        }

        return Verify(header[(Scheme.Length + 1)..].Trim(), out error);
    }
}

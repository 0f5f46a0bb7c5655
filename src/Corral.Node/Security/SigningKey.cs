using System.Security.Cryptography;

namespace Corral.Node.Security;

/// <summary>
/// A run's signing key with the id of the run it signs for, as <c>corral render</c> hands it to a supervisor that runs
/// on another engine (<c>corral up --engine external --signing-key-file PATH</c>): the nodes' rendered credentials name
/// that run, so the supervisor must take both from the one file. The file is two labelled lines:
/// <c>run-id &lt;id&gt;</c> and <c>key &lt;base64 PKCS#8&gt;</c>.
/// </summary>
public sealed record SigningKey(string RunId, string PrivateKey)
{
    private const string RunIdLabel = "run-id ";
    private const string KeyLabel = "key ";

    /// <summary>The file's text for <paramref name="issuer"/>'s key and run.</summary>
    public static string Format(CredentialIssuer issuer) => $"{RunIdLabel}{issuer.RunId}\n{KeyLabel}{issuer.ExportPrivateKey()}\n";

    /// <summary>
    /// Reads a signing key file; it is only read (an engine mounts secrets read-only). Throws
    /// <see cref="InvalidOperationException"/> saying what is wrong and what is expected.
    /// </summary>
    public static SigningKey Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot read the signing key file {path}: {e.Message}", e);
        }

        return Parse(text, path);
    }

    /// <summary>Parses the file's text; <paramref name="source"/> names it in errors.</summary>
    public static SigningKey Parse(string text, string source)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length != 2 || !lines[0].StartsWith(RunIdLabel, StringComparison.Ordinal) || !lines[1].StartsWith(KeyLabel, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"{source} is not a signing key file: expected the lines 'run-id <id>' and 'key <base64>' as 'corral render' writes them");
        }

        var runId = lines[0][RunIdLabel.Length..].Trim();
        var key = lines[1][KeyLabel.Length..].Trim();
        if (runId.Length == 0 || runId.IndexOfAny(['/', '\\']) >= 0 || runId.StartsWith('.'))
        {
            throw new InvalidOperationException($"{source}: the run id '{runId}' is empty or path-like");
        }

        try
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportPkcs8PrivateKey(Convert.FromBase64String(key), out _);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            throw new InvalidOperationException($"{source}: the key is not a base64 PKCS#8 ECDSA private key ({e.Message})", e);
        }

        return new SigningKey(runId, key);
    }
}

using System.Buffers.Text;
using System.Text;

namespace Corral.Node.Security;

/// <summary>
/// The text form of a credential: <c>c1.&lt;claims&gt;.&lt;signature&gt;</c>, both parts base64url, the signature an
/// ECDSA P-256 / SHA-256 signature (IEEE P1363, 64 bytes) over the ASCII of <c>c1.&lt;claims&gt;</c>. Short enough for
/// an Authorization header, and checked by anyone holding the run's public key without asking the supervisor.
/// </summary>
internal static class CompactCredential
{
    public const string Prefix = "c1.";

    /// <summary>The signed part of a credential's text.</summary>
    public static string SignedPart(byte[] claimsJson) => Prefix + Base64Url.EncodeToString(claimsJson);

    public static string Join(string signedPart, byte[] signature) => signedPart + "." + Base64Url.EncodeToString(signature);

    /// <summary>Splits a credential's text into its signed part, its claims' JSON and its signature; false when it has not that shape.</summary>
    public static bool TrySplit(string text, out string signedPart, out byte[] claimsJson, out byte[] signature)
    {
        signedPart = "";
        claimsJson = [];
        signature = [];
        if (!text.StartsWith(Prefix, StringComparison.Ordinal) || text.Length > 4096)
        {
            return false;
        }

        var dot = text.LastIndexOf('.');
        if (dot <= Prefix.Length)
        {
            return false;
        }

        try
        {
            claimsJson = Base64Url.DecodeFromChars(text.AsSpan(Prefix.Length, dot - Prefix.Length));
            signature = Base64Url.DecodeFromChars(text.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return false;
        }

        signedPart = text[..dot];
        return true;
    }

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}

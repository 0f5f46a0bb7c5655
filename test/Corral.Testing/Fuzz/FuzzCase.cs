using System.Text;

namespace Corral.Testing.Fuzz;

/// <summary>How a case's body travels.</summary>
public enum BodyDelivery
{
    /// <summary>Whole, with its Content-Length.</summary>
    Whole,

    /// <summary>Chunked, a piece at a time with pauses between: a slow client.</summary>
    Slow,

    /// <summary>Replaced by <see cref="HttpFuzz.HugeBodyBytes"/> bytes: past every listener's body limit.</summary>
    Huge,
}

/// <summary>How a case authenticates.</summary>
public enum FuzzAuth
{
    Token,
    None,
    Wrong,
}

/// <summary>One generated request: method, path and query, Host, credential, content type and body.</summary>
public sealed record FuzzCase(int Index, string Method, string PathAndQuery, string? Host, FuzzAuth Auth, string? ContentType,
    byte[]? Body, BodyDelivery Delivery)
{
    /// <summary>The case as a reader can replay it (a body shown up to 200 characters).</summary>
    public override string ToString()
    {
        var body = Body is null ? "no body" : Delivery == BodyDelivery.Huge ? $"{HttpFuzz.HugeBodyBytes} bytes"
            : $"{Body.Length} bytes {Show(Body)}";
        var path = PathAndQuery.Length > 200 ? PathAndQuery[..200] + $"…({PathAndQuery.Length} chars)" : PathAndQuery;
        return $"#{Index} {Method} {path} Host={Host ?? "(own)"} auth={Auth} type={ContentType ?? "(none)"} {Delivery} {body}";
    }

    private static string Show(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200));
        return "'" + new string(text.Select(c => char.IsControl(c) ? '·' : c).ToArray()) + (body.Length > 200 ? "…'" : "'");
    }
}

using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Corral.Testing.Fuzz;

/// <summary>
/// The generators of <see cref="HttpFuzz"/>: for a target, cases over its routes (and a few paths it does not map), every
/// method, odd parameters and query strings, foreign Hosts, missing or wrong credentials, odd content types, and bodies
/// that are well-formed, broken, mutated, deep, binary, slow or huge. Drawn with a seed, so a failure replays.
/// </summary>
public static class FuzzCases
{
    private static readonly string[] AnyMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FROB"];

    private static readonly string[] OddValues =
    [
        "", "..", "%2e%2e", ".", "%00", "%25", "%ZZ", "-rf", "--help", "a b", "ünïcødé", "😀", "a/b", "%2F", "x;y", "null", "0", "-1",
        "99999999999999999999", "1e308", "NaN", "true", "[]", "{}", "<script>", "' OR 1=1 --", "\\\\server\\share", "CON",
        new string('a', 300), new string('9', 40), "%C0%AF", "%F0%9F%98%80", "%E2%80%AE", "~", "$", "*",
    ];

    private static readonly string[] OddPaths =
    [
        "/", "//", "/../../etc/passwd", "/%2e%2e/%2e%2e", "/healthz/", "/HEALTHZ", "/readyz?x", "/%00", "/favicon.ico",
        "/" + new string('x', 2000), "/a/b/c/d/e/f/g", "/v1", "/api", "/api/", "/items/", "/items//count", "/;", "/.git/config",
    ];

    private static readonly string[] OddQueries =
    [
        "", "", "", "?run=", "?run=x", "?run=..%2F..", "?next=true", "?next=maybe", "?next=", "?x=%ZZ", "?a=1&a=2&a=3",
        "?=", "?&&&", "?%00=%00", "?limit=-1", "?limit=99999999999", "?since=abc", "?tenant=%FF", "?q=" + new string('q', 2000),
        "?code=x", "?run=😀",
    ];

    private static readonly string[] ContentTypes =
    [
        "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "application/xml", "application/json; charset=utf-16",
        "application/json; charset=\"", "application/problem+json", "application/*", "*/*", "json", ";;;", "application/octet-stream",
        "APPLICATION/JSON", "application/json;", "text/json",
    ];

    /// <summary><paramref name="count"/> cases for <paramref name="target"/>, the same ones for the same seed.</summary>
    public static IReadOnlyList<FuzzCase> Draw(FuzzTarget target, int seed, int count)
    {
        var drawn = Case(target).Sample(count, new Rnd((ulong)seed), 30);
        return drawn.Select((c, i) => c with { Index = i }).ToArray();
    }

    /// <summary>One request for <paramref name="target"/>.</summary>
    public static Gen<FuzzCase> Case(FuzzTarget target) =>
        from path in Gen.Frequency((9, Gen.Elements(target.Routes.ToArray()).SelectMany(route => RoutePath(route, target))),
            (1, Gen.Elements(OddPaths).Select(p => (Route: (FuzzRoute?)null, Path: p))))
        from method in Method(path.Route)
        from query in Gen.Elements(OddQueries)
        from host in Host(target.Port)
        from auth in Gen.Frequency((17, Gen.Constant(FuzzAuth.Token)), (2, Gen.Constant(FuzzAuth.None)), (1, Gen.Constant(FuzzAuth.Wrong)))
        from hasBody in Gen.Frequency((8, Gen.Constant(method is "POST" or "PUT" or "PATCH")), (1, Gen.Constant(true)), (1, Gen.Constant(false)))
        from type in Gen.Frequency((6, Gen.Constant<string?>("application/json")), (3, Gen.Elements(ContentTypes).Select(t => (string?)t)),
            (1, Gen.Constant<string?>(null)))
        from body in Body(target)
        from delivery in Gen.Frequency((96, Gen.Constant(BodyDelivery.Whole)), (2, Gen.Constant(BodyDelivery.Slow)), (2, Gen.Constant(BodyDelivery.Huge)))
        select new FuzzCase(0, method, path.Path + query, host, auth, hasBody ? type : null, hasBody ? body : null,
            hasBody ? delivery : BodyDelivery.Whole);

    private static Gen<(FuzzRoute? Route, string Path)> RoutePath(FuzzRoute route, FuzzTarget target)
    {
        var values = target.SampleValues.Count == 0 ? ["x-1"] : target.SampleValues.ToArray();
        var value = Gen.Frequency((3, Gen.Elements(values)), (2, Gen.Elements(OddValues)));
        var segments = route.Pattern.PathSegments.Select(segment => segment.Parts
            .Select(part => part switch
            {
                RoutePatternLiteralPart literal => Gen.Constant(literal.Content),
                RoutePatternSeparatorPart separator => Gen.Constant(separator.Content),
                RoutePatternParameterPart { IsCatchAll: true } => Gen.Frequency((3, value), (1, Gen.Elements(OddPaths).Select(p => p.TrimStart('/')))),
                RoutePatternParameterPart => value.Select(Uri.EscapeDataString),
                _ => Gen.Constant(""),
            })
            .Aggregate(Gen.Constant(""), (left, right) => from l in left from r in right select l + r));
        return segments.Aggregate(Gen.Constant(""), (left, right) => from l in left from r in right select l + "/" + r)
            .Select(path => (Route: (FuzzRoute?)route, Path: path.Length == 0 ? "/" : path));
    }

    private static Gen<string> Method(FuzzRoute? route) =>
        route is { Methods.Count: > 0 }
            ? Gen.Frequency((7, Gen.Elements(route.Methods.ToArray())), (3, Gen.Elements(AnyMethods)))
            : Gen.Elements(AnyMethods);

    private static Gen<string?> Host(int port) =>
        Gen.Frequency((17, Gen.Constant<string?>(null)), (3, Gen.Elements<string?>(
            "evil.example", $"evil.example:{port}", $"localhost:{port}", $"LOCALHOST:{port}", $"[::1]:{port}", "127.0.0.1:1",
            $"127.0.0.2:{port}", $"2130706433:{port}", $"localhost.evil.example:{port}", "localhost", "127.0.0.1", $"xn--nxa.example:{port}",
            $"{new string('h', 300)}:{port}")));

    private static Gen<byte[]> Body(FuzzTarget target)
    {
        var samples = target.SampleBodies.Count == 0 ? ["{}"] : target.SampleBodies.ToArray();
        var sample = Gen.Elements(samples);
        return Gen.Frequency(
            (3, sample.Select(Encoding.UTF8.GetBytes)),
            (4, from s in sample from m in Mutation() select m(Encoding.UTF8.GetBytes(s))),
            (2, Json(3).Select(Encoding.UTF8.GetBytes)),
            (1, Gen.Elements(Oddities).Select(Encoding.UTF8.GetBytes)),
            (1, Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))));
    }

    private static readonly string[] Oddities =
    [
        "", " ", "null", "[]", "{}", "\"x\"", "0", "-0", "1e400", "{\"a\":", "[[[[", "{\"id\":\"\\u0000\"}", "\uFEFF{}", "{}{}", "{},",
        new string('[', 5000) + new string(']', 5000), new string('{', 100), "{\"a\":1,\"a\":2}", "{'a':1}", "{a:1}", "[1,]",
        "\"\\ud800\"", "{\"" + new string('k', 10000) + "\":1}", "[" + string.Join(",", Enumerable.Repeat("{}", 5000)) + "]",
    ];

    /// <summary>Small edits of a well-formed body: cut, a byte flipped or dropped, a value swapped for an odd one, padded.</summary>
    private static Gen<Func<byte[], byte[]>> Mutation() =>
        Gen.OneOf(
            Gen.Choose(0, 100).Select<int, Func<byte[], byte[]>>(percent => b => b[..(b.Length * percent / 100)]),
            Gen.Choose(0, 10_000).SelectMany(at => Gen.Choose(0, 255).Select<int, Func<byte[], byte[]>>(value => b =>
            {
                if (b.Length == 0) return b;
                var copy = (byte[])b.Clone();
                copy[at % copy.Length] = (byte)value;
                return copy;
            })),
            Gen.Choose(0, 10_000).Select<int, Func<byte[], byte[]>>(at => b => b.Length == 0 ? b : [.. b[..(at % b.Length)], .. b[(at % b.Length + 1)..]]),
            Gen.Elements(OddValues).Select<string, Func<byte[], byte[]>>(odd => b => Encoding.UTF8.GetBytes(
                System.Text.RegularExpressions.Regex.Replace(Encoding.UTF8.GetString(b), "\"[^\"]*\"\\s*(?=[,}\\]])", "\"" + odd + "\"", default, TimeSpan.FromSeconds(1)))),
            Gen.Elements("-1", "0", "1e308", "99999999999999999999", "null", "true", "[]", "{}", "\"\"", "-0.5")
                .Select<string, Func<byte[], byte[]>>(odd => b => Encoding.UTF8.GetBytes(
                    System.Text.RegularExpressions.Regex.Replace(Encoding.UTF8.GetString(b), ":\\s*(\"[^\"]*\"|-?[0-9.eE+]+|true|false|null)", ":" + odd, default, TimeSpan.FromSeconds(1)))),
            Gen.Elements("  ", "\n", ",", "}", "]", "\"", "\\", "\u0000").Select<string, Func<byte[], byte[]>>(pad => b => [.. b, .. Encoding.UTF8.GetBytes(pad)]));

    /// <summary>Random JSON values, <paramref name="depth"/> levels deep at most.</summary>
    private static Gen<string> Json(int depth)
    {
        var scalar = Gen.OneOf(
            Gen.Elements("null", "true", "false", "0", "-1", "1.5", "1e308", "-9223372036854775809", "\"\"", "\"x\"", "\"../x\"", "\"-rf\""),
            Gen.Choose(-1000, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (depth == 0) return scalar;
        var inner = Json(depth - 1);
        var key = Gen.Elements("id", "tenant", "name", "count", "nodeId", "ports", "http", "outage", "failure", "avgDelay", "passed",
            "summary", "worker", "task", "key", "spec", "result", "health", "target", "x", "");
        var obj = Gen.ListOf(from k in key from v in inner select $"\"{k}\":{v}")
            .Select(members => "{" + string.Join(",", members) + "}");
        var array = Gen.ListOf(inner).Select(items => "[" + string.Join(",", items) + "]");
        return Gen.Frequency((2, scalar), (3, obj), (2, array));
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Corral.Testing.Fuzz;

/// <summary>What a fuzz run saw: how many cases, the statuses they got, and every case that failed (a 5xx, no answer, a dead node).</summary>
public sealed record FuzzReport(string Target, int Seed, int Cases, IReadOnlyDictionary<int, int> Statuses, IReadOnlyList<string> Failures,
    TimeSpan Took)
{
    /// <summary>Fails the test with the failing cases (the first 20), the seed, and the status counts.</summary>
    public void AssertClean()
    {
        if (Failures.Count == 0) return;
        throw new Xunit.Sdk.XunitException(
            $"{Failures.Count} of {Cases} fuzz cases against {Target} (seed {Seed}) failed:\n  " + string.Join("\n  ", Failures.Take(20)) +
            $"\nstatuses: {string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
    }
}

/// <summary>
/// A seeded HTTP fuzz engine for a listener on a real port: draws <see cref="FuzzCases"/> and sends them, a few at a time,
/// then asks <c>/healthz</c>. A case fails when it gets a 5xx, or no answer at all (a reset, a hang) where the request was
/// one a server must answer; a run fails when the listener no longer answers <c>/healthz</c>. A huge or slow body may be cut
/// off by the server (413 and a closed connection, or a minimum data rate), so for those a broken connection is an answer.
/// </summary>
public static class HttpFuzz
{
    /// <summary>The size of a huge body: past every listener's limit (the node default is 1 MiB).</summary>
    public const int HugeBodyBytes = 3 * 512 * 1024;

    private const int Parallelism = 4;
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="count"/> cases drawn with <paramref name="seed"/> against <paramref name="target"/>.</summary>
    public static async Task<FuzzReport> RunAsync(FuzzTarget target, int seed, int count)
    {
        var cases = FuzzCases.Draw(target, seed, count);
        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentBag<(int Index, string What)>();
        var started = Stopwatch.StartNew();
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, MaxConnectionsPerServer = Parallelism * 2 })
        {
            BaseAddress = target.BaseUrl,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (target.ReadyPath is { } ready)
        {
            await Eventually.TrueAsync(async _ => await StatusAsync(http, target, ready) is HttpStatusCode.OK, TimeSpan.FromSeconds(30),
                $"{target.Name} never answered {ready} 200");
        }

        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (fuzz, _) =>
        {
            var (status, failure) = await SendAsync(http, target, fuzz);
            if (status is { } code) statuses.AddOrUpdate(code, 1, (_, n) => n + 1);
            if (failure is not null) failures.Add((fuzz.Index, $"{fuzz} → {failure}"));
        });

        if (await HealthAsync(http, target) is { } dead) failures.Add((int.MaxValue, $"after {count} cases: {dead}"));
        return new FuzzReport(target.Name, seed, cases.Count, statuses.ToDictionary(), failures.OrderBy(f => f.Index).Select(f => f.What).ToArray(),
            started.Elapsed);
    }

    private static async Task<(int? Status, string? Failure)> SendAsync(HttpClient http, FuzzTarget target, FuzzCase fuzz)
    {
        HttpRequestMessage request;
        try
        {
            request = Request(target, fuzz);
        }
        catch (Exception e) when (e is UriFormatException or FormatException or InvalidOperationException)
        {
            // The client itself will not send it (an invalid header or URI): no request, nothing to judge.
            return (null, null);
        }

        using (request)
        using (var timeout = new CancellationTokenSource(CaseTimeout))
        {
            try
            {
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var status = (int)response.StatusCode;
                return (status, status >= 500 ? $"{status} {await ExcerptAsync(response, timeout.Token)}" : null);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return (null, $"no answer in {CaseTimeout.TotalSeconds:0} s");
            }
            catch (HttpRequestException e) when (fuzz.Delivery != BodyDelivery.Whole)
            {
                // A huge or slow body may be cut off mid-upload; the server answered by closing.
                _ = e;
                return (null, null);
            }
            catch (HttpRequestException e)
            {
                return (null, $"no answer: {e.Message} {e.InnerException?.Message}");
            }
        }
    }

    private static HttpRequestMessage Request(FuzzTarget target, FuzzCase fuzz)
    {
        var request = new HttpRequestMessage(new HttpMethod(fuzz.Method), new Uri(target.BaseUrl, fuzz.PathAndQuery));
        // A connection of its own: a pooled one the server closed after an earlier case (a 413 mid-upload) would fail this
        // case for that case's reason, and a reset here then means this request broke the server.
        request.Headers.ConnectionClose = true;
        if (fuzz.Host is not null) request.Headers.Host = fuzz.Host;
        switch (fuzz.Auth)
        {
            case FuzzAuth.Token when target.Token is not null:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.Token);
                break;
            case FuzzAuth.Wrong:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token");
                break;
        }

        if (fuzz.Body is not null)
        {
            HttpContent content = fuzz.Delivery switch
            {
                BodyDelivery.Huge => new ByteArrayContent(Huge),
                BodyDelivery.Slow => new SlowContent(fuzz.Body),
                _ => new ByteArrayContent(fuzz.Body),
            };
            if (fuzz.ContentType is not null && !content.Headers.TryAddWithoutValidation("Content-Type", fuzz.ContentType))
            {
                throw new FormatException("content type");
            }

            request.Content = content;
        }

        return request;
    }

    private static readonly byte[] Huge = Enumerable.Repeat((byte)'[', HugeBodyBytes).ToArray();

    private static async Task<string> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            return text.Length > 300 ? text[..300] + "…" : text;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return "(body unreadable)";
        }
    }

    private static async Task<string?> HealthAsync(HttpClient http, FuzzTarget target)
    {
        try
        {
            var status = await StatusAsync(http, target, target.HealthPath);
            return status == HttpStatusCode.OK ? null : $"{target.HealthPath} answers {(int)status}";
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return $"{target.HealthPath} does not answer: {e.Message}";
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, FuzzTarget target, string path)
    {
        using var timeout = new CancellationTokenSource(CaseTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (target.Token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.Token);
        using var response = await http.SendAsync(request, timeout.Token);
        return response.StatusCode;
    }

    /// <summary>A body sent in three pieces with pauses between them (chunked), as a slow client's.</summary>
    private sealed class SlowContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var third = Math.Max(1, body.Length / 3);
            for (var at = 0; at < body.Length; at += third)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(third, body.Length - at)));
                await stream.FlushAsync();
                await Task.Delay(50);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Corral.Shootout.Game;
using Corral.Shootout.Server;

namespace Corral.Shootout.Cowboy;

/// <summary>What the server answered: the status, and the body when it parsed.</summary>
internal sealed record ServerReply<T>(HttpStatusCode Status, T? Value, string? Reason, TimeSpan? RetryAfter, string? Detail)
{
    /// <summary>The round a refusal is about, when the server says.</summary>
    public int? Round { get; init; }

    public bool Ok => (int)Status is >= 200 and < 300 && Value is not null;
}

/// <summary>A cowboy's client for the game server. Every call has its own timeout; callers own retries.</summary>
internal sealed class ShootoutClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _nodeId;
    private readonly TimeSpan _timeout;

    public ShootoutClient(Uri server, string token, string nodeId, TimeSpan? timeout = null, HttpMessageHandler? handler = null)
    {
        _nodeId = nodeId;
        _timeout = timeout ?? TimeSpan.FromSeconds(2);
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = server,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.Add(ShootoutApi.NodeHeader, nodeId);
    }

    public Uri Server => _http.BaseAddress!;

    public Task<ServerReply<RegisterResponse>> RegisterAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/register", Body(new RegisterRequest { NodeId = _nodeId }, ShootoutJson.Default.RegisterRequest),
            ShootoutJson.Default.RegisterResponse, cancellationToken);

    public Task<ServerReply<ShotReport>> ShootAsync(string shooter, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/shoot", Body(new ShootRequest { Shooter = shooter }, ShootoutJson.Default.ShootRequest),
            ShootoutJson.Default.ShotReport, cancellationToken);

    public Task<ServerReply<GameSnapshot>> GetStateAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "/state", null, ShootoutJson.Default.GameSnapshot, cancellationToken);

    // Buffered, so a retried request is always sent whole.
    private static byte[] Body<TBody>(TBody body, JsonTypeInfo<TBody> json) => JsonSerializer.SerializeToUtf8Bytes(body, json);

    private async Task<ServerReply<T>> SendAsync<T>(HttpMethod method, string path, byte[]? body, JsonTypeInfo<T> json,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        try
        {
            using var response = await _http.SendAsync(request, timeout.Token);
            if (response.IsSuccessStatusCode)
            {
                var value = await response.Content.ReadFromJsonAsync(json, timeout.Token);
                return new ServerReply<T>(response.StatusCode, value, null, null, null);
            }

            string? reason = null, detail = null;
            TimeSpan? retryAfter = null;
            int? round = null;
            try
            {
                using var problem = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), cancellationToken: timeout.Token);
                var root = problem.RootElement;
                if (root.TryGetProperty("reason", out var r)) reason = r.GetString();
                if (root.TryGetProperty("detail", out var d)) detail = d.GetString();
                if (root.TryGetProperty("retryAfterMs", out var ms) && ms.TryGetDouble(out var value)) retryAfter = TimeSpan.FromMilliseconds(value);
                if (root.TryGetProperty("round", out var r2) && r2.TryGetInt32(out var n)) round = n;
            }
            catch (JsonException)
            {
            }

            return new ServerReply<T>(response.StatusCode, default, reason, retryAfter, detail) { Round = round };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HttpRequestException($"{method} {path} timed out after {_timeout.TotalSeconds:0.#}s");
        }
    }

    public void Dispose() => _http.Dispose();
}

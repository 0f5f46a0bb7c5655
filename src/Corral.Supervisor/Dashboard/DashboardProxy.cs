using System.Buffers;
using System.Net.Http.Headers;
using Corral.Node.Security;
using Corral.Node.Dashboard;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Http;

namespace Corral.Supervisor.Dashboard;

/// <summary>
/// Forwards a panel's request to a node (<c>/api/nodes/{nodeId}/proxy/{path}</c>) when the app's panel lists that
/// method and path for the node's role; anything else is refused. JSON answers and server-sent event streams alike
/// are copied as they arrive. The request carries the run's token to the node, never to the browser.
/// </summary>
internal sealed class DashboardProxy(IDashboardRun run, DashboardPanel? panel) : IDisposable
{
    private const int MaxBodyBytes = 64 * 1024;
    private static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(10);
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
    }) { Timeout = Timeout.InfiniteTimeSpan };

    public async Task ForwardAsync(HttpContext context)
    {
        var nodeId = DashboardApi.RouteValue(context, "nodeId");
        var path = "/" + DashboardApi.RouteValue(context, "path");
        var method = context.Request.Method;
        if (run.Nodes().FirstOrDefault(n => n.NodeId == nodeId) is not { } node)
        {
            await JsonBody.Problem(StatusCodes.Status404NotFound, "Unknown node", $"no node '{nodeId}' in this run").ExecuteAsync(context);
            return;
        }

        if (panel?.Find(node.Role, method, path) is not { } route)
        {
            await JsonBody.Problem(StatusCodes.Status403Forbidden, "Not a panel route",
                $"the app's panel does not list {method} {path} for {node.Role} nodes").ExecuteAsync(context);
            return;
        }

        if (!node.Urls.TryGetValue(route.Port, out var baseUrl))
        {
            await JsonBody.Problem(StatusCodes.Status503ServiceUnavailable, "Node not listening",
                $"{nodeId} has no '{route.Port}' port now (state {node.State}); try again when it is ready").ExecuteAsync(context);
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(method), baseUrl + path + context.Request.QueryString);
        request.Headers.Authorization = new AuthenticationHeaderValue(CredentialVerifier.Scheme, run.Token);
        if (!HttpMethods.IsGet(method))
        {
            if (await ReadBodyAsync(context.Request) is not { } body)
            {
                await JsonBody.Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the body may be at most {MaxBodyBytes} bytes").ExecuteAsync(context);
                return;
            }

            request.Content = new ByteArrayContent(body);
            if (context.Request.ContentType is { } type && MediaTypeHeaderValue.TryParse(type, out var parsed))
            {
                request.Content.Headers.ContentType = parsed;
            }
        }

        HttpResponseMessage response;
        using (var headers = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            headers.CancelAfter(HeadersTimeout);
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
            {
                await JsonBody.Problem(StatusCodes.Status502BadGateway, "Node unreachable", $"{nodeId}: {e.Message}").ExecuteAsync(context);
                return;
            }
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } type)
            {
                context.Response.ContentType = type.ToString();
            }

            await CopyAsync(response, context);
        }
    }

    /// <summary>Copies the answer chunk by chunk, flushing each, so an event stream reaches the page as it happens.</summary>
    private static async Task CopyAsync(HttpResponseMessage response, HttpContext context)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await using var source = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            int read;
            while ((read = await source.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
        {
            // The page left, or the node went away mid-stream: the EventSource reconnects if it still wants to.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    public void Dispose() => _http.Dispose();
}

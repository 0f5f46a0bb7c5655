using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Corral.Node.Nodes;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Tests.Helpers;

/// <summary>
/// A real Kestrel server standing in for a worker where the proxy needs endpoints a worker does not have:
/// large bodies, header echo, slow answers, broken connections.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;
    private int _aborted;
    private int _slowStarted;

    private TestBackend(WebApplication app) => _app = app;

    public int Port { get; private set; }
    public string Url => $"http://127.0.0.1:{Port}";
    public int Requests => Volatile.Read(ref _requests);
    public int Aborted => Volatile.Read(ref _aborted);
    public int SlowStarted => Volatile.Read(ref _slowStarted);
    public long LastUploadBytes { get; private set; }

    public static async Task<TestBackend> StartAsync(string name = "backend")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var backend = new TestBackend(app);
        app.Use(async (context, next) =>
        {
            // Health checks (/hello) are not counted: tests count the requests the proxy forwarded.
            if (context.Request.Path != "/hello") Interlocked.Increment(ref backend._requests);
            await next(context);
        });
        app.MapGet("/hello", () => $"hello from {name}");
        app.MapGet("/fail", () => Results.StatusCode(500));
        app.MapGet("/download/{bytes:long}", async (long bytes, HttpContext context) =>
        {
            context.Response.ContentLength = bytes;
            await new PatternStream(bytes).CopyToAsync(context.Response.Body, 64 * 1024, context.RequestAborted);
        });
        app.MapPost("/upload", async (HttpContext context) =>
        {
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0) total += read;
            backend.LastUploadBytes = total;
            return Results.Ok(new { bytes = total });
        });
        app.Map("/headers", (HttpContext context) =>
        {
            context.Response.Headers["Connection"] = "close";
            context.Response.Headers["Keep-Alive"] = "timeout=5";
            context.Response.Headers["X-End-To-End"] = "passes";
            return Results.Ok(context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()));
        });
        app.MapGet("/slow", async (HttpContext context) =>
        {
            Interlocked.Increment(ref backend._slowStarted);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
                return Results.Ok("slow");
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref backend._aborted);
                throw;
            }
        });
        // Slow only on the backend with that name: a hung worker next to a healthy one.
        app.MapGet("/slow-on/{who}", async (string who, HttpContext context) =>
        {
            if (who == name)
            {
                Interlocked.Increment(ref backend._slowStarted);
                await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
            }

            return Results.Ok(name);
        });
        // Sends its headers and a first chunk, then goes silent until the balancer gives up on it.
        app.MapGet("/stall-after-headers", async (HttpContext context) =>
        {
            Interlocked.Increment(ref backend._slowStarted);
            await context.Response.WriteAsync("first chunk", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref backend._aborted);
            }
        });
        // Reads the whole body, then breaks the connection: the worker got the body and failed afterwards.
        app.Map("/fail-after-body", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Abort();
        });
        await app.StartAsync();
        backend.Port = app.BoundPort();
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

/// <summary>
/// The baseline: YARP's <see cref="IHttpForwarder"/> with round-robin and nothing else (no health, retries, deadlines
/// of ours or statistics), the way YARP's direct-forwarding sample uses it, on the same connection settings.
/// </summary>
internal sealed class BareForwarder : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = null,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    private long _next = -1;

    private BareForwarder(WebApplication app) => _app = app;

    public static async Task<BareForwarder> StartAsync(int port, string[] upstreams)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        var bare = new BareForwarder(app);
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var config = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        app.Run(async context =>
        {
            var upstream = upstreams[(int)((ulong)Interlocked.Increment(ref bare._next) % (ulong)upstreams.Length)];
            await forwarder.SendAsync(context, upstream, bare._invoker, config, HttpTransformer.Default);
        });
        await app.StartAsync();
        return bare;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _invoker.Dispose();
    }
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Node.Http;

/// <summary>
/// The one Kestrel bootstrap (a node's host, the control API, the dashboard): one address and port, no Server header,
/// a request body limit, no configuration file watch, problem details; and the one look-up of the port it bound.
/// </summary>
public static class HttpServer
{
    /// <summary>
    /// No appsettings file is read, yet by default the host watches for one: an inotify instance per host, and the
    /// kernel allows 128 per user, so a few hundred nodes on one machine failed to start. Nothing to reload, no watch.
    /// </summary>
    public static readonly string[] NoConfigWatch = ["--hostBuilder:reloadConfigOnChange=false"];

    /// <summary>
    /// A body must arrive at 240 bytes a second or more, after a 5 s grace (Kestrel's own default, stated here so it is a
    /// decision): a client that trickles a body a byte at a time gets 408 and its connection closed, instead of holding a
    /// request open. <see cref="RequestBody.Timeout"/> bounds the whole read on top of it.
    /// </summary>
    public static readonly MinDataRate MinBodyDataRate = new(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));

    /// <summary>
    /// A slim builder listening on <paramref name="bindAddress"/>:<paramref name="port"/> (0: the kernel picks a free one);
    /// <paramref name="listen"/> sees the listener's options (a node keeps them to read its bound port by name).
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string applicationName, string bindAddress, int port, long maxRequestBodyBytes,
        Action<ListenOptions>? listen = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = applicationName, Args = NoConfigWatch });
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Parse(bindAddress), port, options => listen?.Invoke(options));
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = maxRequestBodyBytes;
            kestrel.Limits.MinRequestBodyDataRate = MinBodyDataRate;
        });
        builder.Services.AddProblemDetails();
        return builder;
    }

    /// <summary>The port Kestrel actually bound (differs from the planned one when it was 0): the address it reports is the truth.</summary>
    public static int BoundPort(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
}

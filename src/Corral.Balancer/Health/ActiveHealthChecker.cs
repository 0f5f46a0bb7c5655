using System.Net;
using Corral.Balancer.Proxy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Balancer.Health;

/// <summary>
/// Checks every known worker's service port on a period, all workers at once and each with a timeout, so one hung
/// worker cannot stall the others' checks (002 checked in sequence with no timeout). Only a 2xx answer is healthy
/// (002 counted its 404 for <c>HEAD /</c> as healthy).
/// </summary>
internal sealed partial class ActiveHealthChecker(BackendPool pool, BalancerState state, TimeProvider time, ILogger<ActiveHealthChecker> logger)
    : BackgroundService
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(stoppingToken);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var interval = state.Config.HealthCheck.Interval;
            try
            {
                await CheckAllAsync(cancellationToken);
                await Task.Delay(interval, time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public Task CheckAllAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(pool.All.Select(backend => CheckAsync(backend, cancellationToken)));

    private async Task CheckAsync(Backend backend, CancellationToken cancellationToken)
    {
        var settings = state.Config.HealthCheck;
        bool healthy;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            using var response = await _http.GetAsync(backend.BaseUrl + settings.Path, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            healthy = response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            healthy = false;
        }

        if (cancellationToken.IsCancellationRequested) return;
        if (backend.Active.Observe(healthy, settings.UnhealthyAfter, settings.HealthyAfter))
        {
            LogHealthChanged(logger, backend.Id, healthy ? "up" : "down");
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "worker {WorkerId} is {State} (active health check)")]
    private static partial void LogHealthChanged(ILogger logger, string workerId, string state);
}

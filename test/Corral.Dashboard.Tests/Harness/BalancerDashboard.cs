namespace Corral.Dashboard.Tests.Harness;

/// <summary>
/// One balancer run (three workers, one balancer, fast health checks and stats) with its dashboard, shared by the
/// API and browser tests of <see cref="BalancerDashboardCollection"/>: each test uses its own worker, so they do not
/// disturb each other.
/// </summary>
public sealed class BalancerDashboard : IAsyncLifetime
{
    public const string Topology = """
        app: balancer
        seed: 7
        workers: 3
        balancers: 1
        avg-delay: 1ms
        failure: 0
        stats-flush: 200ms
        health-check:
          interval: 200ms
          timeout: 500ms
        """;

    public DashboardRun Run { get; private set; } = null!;

    /// <summary>A client signed in once, for the tests' own reads and changes.</summary>
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Run = await DashboardRun.StartAsync(Topology);
        Client = await Run.SignedInClientAsync();
        await DashboardRun.WaitAllReadyAsync(Client, 4);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Run.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BalancerDashboardCollection : ICollectionFixture<BalancerDashboard>, ICollectionFixture<Chromium>
{
    public const string Name = "balancer dashboard";
}

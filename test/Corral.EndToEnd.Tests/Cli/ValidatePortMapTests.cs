
namespace Corral.EndToEnd.Tests.Cli;

/// <summary><c>corral validate</c> checks the port map a run would use, derived ports included.</summary>
[Collection(EndToEnd.Collection)]
public sealed class ValidatePortMapTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Validate_rejects_a_plan_whose_balancers_would_listen_on_worker_admin_ports()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "validate", CorralBinary.Example("balancer.yaml"),
            "--set", "ports.worker-admin=5050");

        Assert.Equal(2, code);
        Assert.Contains("node lb-1 (http) and node worker-1 (admin) would both listen on port 5050", output);
    }

    public void Dispose() => _folder.Dispose();
}

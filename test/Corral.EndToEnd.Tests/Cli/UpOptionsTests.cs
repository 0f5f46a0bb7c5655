
namespace Corral.EndToEnd.Tests.Cli;

/// <summary><c>corral up</c> checks its options in one place (the supervisor's) and refuses bad ones with exit 2, starting nothing.</summary>
[Collection(EndToEnd.Collection)]
public sealed class UpOptionsTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private readonly TempFolder _folder = new();

    [Theory]
    [InlineData("-1001")]
    [InlineData("20001")]
    public async Task A_port_offset_past_either_end_of_its_range_exits_2_and_starts_nothing(string offset)
    {
        var data = Path.Combine(_folder.Path, "data");

        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "up", CorralBinary.Example("shootout.yaml"),
            "--data", data, "--no-dashboard", "--port-offset", offset);

        Assert.Equal(2, code);
        Assert.Contains($"--port-offset must be between -1000 and 20000 so every default port stays between 1024 and 32767, not {offset}", output);
        Assert.False(Directory.Exists(Path.Combine(data, "runs")), "refused options must not create a run");
    }

    [Fact]
    public async Task A_port_offset_with_dynamic_ports_exits_2()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "up", CorralBinary.Example("shootout.yaml"),
            "--data", Path.Combine(_folder.Path, "data"), "--ports", "dynamic", "--port-offset", "5");

        Assert.Equal(2, code);
        Assert.Contains("--port-offset and --ports dynamic exclude each other", output);
    }

    public void Dispose() => _folder.Dispose();
}

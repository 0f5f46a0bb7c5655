
namespace Corral.EndToEnd.Tests.Cli;

/// <summary>Bad topologies and arguments get a clear error, exit 2, and start nothing.</summary>
[Collection(EndToEnd.Collection)]
public sealed class BadInputTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task An_invalid_topology_names_file_line_and_column_and_starts_nothing()
    {
        var file = _folder.Write("bad.yaml", "app: shootout\ntick: 1s\ncowboys:\n  - {name: a, health: 0, damage: 1}\n  - {name: b, health: 1, damage: 1}\n");

        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "up", file, "--data", Path.Combine(_folder.Path, "data"));

        Assert.Equal(2, code);
        Assert.Contains($"{file}:4:", output);
        Assert.Contains("health", output);
        Assert.Contains("nothing was started", output);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "data", "runs")), "a rejected topology must not create a run");
    }

    [Fact]
    public async Task Validate_prints_the_plan_of_a_good_file()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "validate", CorralBinary.Example("shootout.yaml"));

        Assert.True(code == 0, output);
        Assert.Contains("valid shootout topology", output);
        Assert.Contains("cowboy-5", output);
    }

    [Fact]
    public async Task A_bad_override_is_named()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "validate", CorralBinary.Example("shootout.yaml"), "--set", "tick=soon");

        Assert.Equal(2, code);
        Assert.Contains("--set tick=soon", output);
        Assert.Contains("duration", output);
    }

    [Theory]
    [InlineData("validate", "99999999999999999999h")]
    [InlineData("validate", "٣s")]
    [InlineData("up", "99999999999999999999h")]
    public async Task An_overflowing_or_non_ascii_duration_is_refused_with_what_is_valid(string command, string tick)
    {
        var data = Path.Combine(_folder.Path, "data");

        string[] arguments = [command, CorralBinary.Example("shootout.yaml"), "--set", $"tick={tick}", .. command == "up" ? ["--data", data] : Array.Empty<string>()];

        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, arguments);

        Assert.True(code == 2, output);
        Assert.Contains("tick must be a duration such as 50ms", output);
        Assert.Contains("at most 1000h", output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(Directory.Exists(Path.Combine(data, "runs")), "a rejected topology must not create a run");
    }

    [Fact]
    public async Task An_unknown_option_value_lists_the_valid_ones()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "up", CorralBinary.Example("shootout.yaml"), "--ports", "random");

        Assert.NotEqual(0, code);
        Assert.Contains("dynamic", output);
    }

    [Fact]
    public async Task Check_names_a_missing_run_folder()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "check", Path.Combine(_folder.Path, "nope"));

        Assert.Equal(2, code);
        Assert.Contains("no such run folder", output);
    }

    [Fact]
    public async Task A_node_without_its_environment_says_what_it_needs()
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "node", "shootout.cowboy");

        Assert.Equal(2, code);
        Assert.Contains("CORRAL_CONTROL_URL", output);
        Assert.Contains("--credential-file", output);
    }

    public void Dispose() => _folder.Dispose();
}

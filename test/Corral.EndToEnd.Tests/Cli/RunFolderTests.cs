using System.Runtime.Versioning;
using System.Text.RegularExpressions;

namespace Corral.EndToEnd.Tests.Cli;

/// <summary>Run folders are bounded (<c>corral prune</c>) and private: owner-only modes, no dashboard link in any file.</summary>
// Unix file modes: Corral runs on Linux (it needs setsid and setpriv).
[UnsupportedOSPlatform("windows")]
[Collection(EndToEnd.Collection)]
public sealed partial class RunFolderTests : IDisposable
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);
    private readonly TempFolder _folder = new();

    private string Data => Path.Combine(_folder.Path, "data");

    [Fact]
    public async Task Prune_keeps_the_newest_two_of_five_runs_and_names_each_one_it_removed()
    {
        string[] runs = ["20261101-120000-0001", "20261102-120000-0002", "20261103-120000-0003", "20261104-120000-0004", "20261105-120000-0005"];
        foreach (var run in runs)
        {
            Directory.CreateDirectory(Path.Combine(Data, "runs", run, "logs"));
            File.WriteAllText(Path.Combine(Data, "runs", run, "logs", "corral.log"), "a line\n");
        }

        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "prune", "--data", Data, "--keep", "2");

        Assert.Equal(0, code);
        foreach (var removed in runs.Take(3))
        {
            Assert.Contains($"removed run {removed} (7 B)", output);
        }

        Assert.Contains("removed 3 runs (21 B); 2 left", output);
        Assert.Equal(runs.Skip(3), Directory.GetDirectories(Path.Combine(Data, "runs")).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("-1", "--keep must be 0 (keep all) or more, not -1")]
    [InlineData("many", "--keep must be a whole number of runs (0 keeps all), not 'many'")]
    public async Task Prune_refuses_a_keep_that_is_not_a_count_with_exit_2(string keep, string message)
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "prune", "--data", Data, "--keep", keep);

        Assert.Equal(2, code);
        Assert.Contains(message, output);
    }

    [Theory]
    [InlineData("-1", "--keep-runs must be 0 (keep all) or more, not -1")]
    [InlineData("all", "--keep-runs must be a whole number of runs (0 keeps all), not 'all'")]
    public async Task Up_refuses_a_keep_runs_that_is_not_a_count_with_exit_2_and_starts_nothing(string keep, string message)
    {
        var (code, output) = await CorralProcess.RunAsync(_folder.Path, Timeout, "up", CorralBinary.Example("shootout.yaml"),
            "--data", Data, "--no-dashboard", "--keep-runs", keep);

        Assert.Equal(2, code);
        Assert.Contains(message, output);
        Assert.False(Directory.Exists(Path.Combine(Data, "runs")), "refused options must not create a run");
    }

    [Fact]
    public async Task A_run_with_a_dashboard_prints_its_link_but_writes_it_to_no_file_and_keeps_its_folder_owner_only()
    {
        await using var corral = CorralProcess.Start(_folder.Path, "up", CorralBinary.Example("shootout.yaml"), "--ports", "dynamic",
            "--data", Data, "--set", "tick=50ms");

        Assert.Equal(0, await corral.WaitForExitAsync(RunTimeout));

        Assert.Contains(corral.Lines, l => l.Contains("Dashboard: http://", StringComparison.Ordinal) && l.Contains("?code=", StringComparison.Ordinal));
        var folder = RunFolderLine().Match(corral.Lines.Last(l => RunFolderLine().IsMatch(l))).Groups["folder"].Value;
        var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories);
        Assert.DoesNotContain(files, file => File.ReadAllText(file).Contains("?code=", StringComparison.Ordinal));

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(Path.Combine(Data, "runs")));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(folder));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(Path.Combine(folder, "logs")));
        var logs = Directory.GetFiles(Path.Combine(folder, "logs"));
        Assert.Contains(logs, log => Path.GetFileName(log) == "corral.log");
        Assert.All(logs.Append(Path.Combine(folder, "run.json")), file => Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(file)));
    }

    [GeneratedRegex(@"^run \S+: .* folder (?<folder>.+)$")]
    private static partial Regex RunFolderLine();

    public void Dispose() => _folder.Dispose();
}

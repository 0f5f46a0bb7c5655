using System.Runtime.Versioning;
using Corral.Node.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Supervisor.Tests.Supervision;

/// <summary>What a run leaves behind is its owner's alone: folders 0700, files 0600, and no dashboard link in any file.</summary>
// Unix file modes: Corral runs on Linux (it needs setsid and setpriv).
[UnsupportedOSPlatform("windows")]
public sealed class RunFolderModeTests : IDisposable
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly TempFolder _data = new("corral-modes-");

    [Fact]
    public void A_new_run_folder_its_logs_and_the_runs_folder_are_created_owner_only()
    {
        var run = RunFolder.Create(_data.Path, DateTimeOffset.UtcNow);

        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(RunFolder.RunsPath(_data.Path)));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(run.Path));
        Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(run.LogsPath));
    }

    [Fact]
    public void Logs_run_json_and_control_json_are_created_owner_only()
    {
        var run = RunFolder.Create(_data.Path, DateTimeOffset.UtcNow);
        using (var recorder = new RunRecorder(run, NullOutputSink.Instance, "test", 1, DateTimeOffset.UtcNow))
        {
            recorder.Say("a line of the supervisor's");
            recorder.OutputOf("a-1").Line("a line of a node's");
            recorder.RecordStart([]);
        }

        run.WriteControlAccess(new ControlAccess("http://127.0.0.1:7999/", "token"));

        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(run.LogOf(ConsoleOutputSink.SupervisorName)));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(run.LogOf("a-1")));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(run.SummaryPath));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(run.ControlPath));
    }

    [Fact]
    public async Task The_dashboard_link_goes_to_the_terminal_and_into_no_file_of_the_run()
    {
        await using var h = new Harness(StubApp.Loaded(StubApp.Role("a", 0)), o => o with { DataDirectory = _data.Path, DashboardPort = 0 });
        await h.Supervisor.StartAsync();

        Assert.True(h.Sink.Has("corral", "?code="), h.Sink.Dump());
        var leaking = Directory.EnumerateFiles(h.Supervisor.Run.Path, "*", SearchOption.AllDirectories)
            .Where(file => File.ReadAllText(file).Contains("?code=", StringComparison.Ordinal));
        Assert.Empty(leaking);
    }

    public void Dispose() => _data.Dispose();
}

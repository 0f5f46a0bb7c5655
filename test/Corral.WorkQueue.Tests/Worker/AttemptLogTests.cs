using System.Runtime.Versioning;
using System.Text;
using Corral.Node.Storage;
using Corral.WorkQueue.Config;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;
using Corral.WorkQueue.Worker;

namespace Corral.WorkQueue.Tests.Worker;

/// <summary>An attempt's log is the owner's only and bounded: head and tail kept, the cut said.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class AttemptLogTests
{
    [Fact]
    public void A_log_past_the_cap_keeps_whole_lines_of_its_head_and_tail_and_says_how_much_was_cut()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("a.log");
        File.WriteAllText(path, string.Concat(Enumerable.Range(1, 300_000).Select(i => $"line {i}\n")));
        var length = new FileInfo(path).Length;

        var cut = AttemptLog.Cap(path, maxBytes: 64 * 1024);

        var lines = File.ReadAllLines(path);
        Assert.Equal("line 1", lines[0]);
        Assert.Equal("line 300000", lines[^1]);
        var note = Assert.Single(lines, l => l.StartsWith("[corral]", StringComparison.Ordinal));
        Assert.Equal($"[corral] {cut} bytes cut from the middle of this log ({length} bytes; the first and last 32768 at most are kept)", note);
        Assert.All(lines.Where(l => l != note), l => Assert.Matches(@"^line \d+$", l));
        Assert.Equal(length - cut, new FileInfo(path).Length - Encoding.UTF8.GetByteCount(note + "\n"));
        Assert.True(new FileInfo(path).Length <= 64 * 1024 + note.Length + 1);
        Assert.Equal(PrivateFiles.OwnerOnlyFile, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_log_within_the_cap_is_left_as_it_is()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("a.log");
        File.WriteAllText(path, "short\n");

        Assert.Equal(0, AttemptLog.Cap(path));
        Assert.Equal("short\n", File.ReadAllText(path));
    }

    [Fact]
    public async Task A_spec_that_prints_megabytes_leaves_a_private_log_of_at_most_the_cap()
    {
        using var folder = new TempFolder();
        await using var control = await ControlApiStub.StartAsync();
        var context = control.Context("worker-1", WorkQueuePlan.WorkerRole, folder.Path);
        var config = new WorkQueueConfig
        {
            SpecList = folder.Combine("map.json"), SpecRoot = folder.Path, Command = ["seq", "1", "400000"], Tasks = [],
        };
        var task = new TaskDefinition { Key = "task:g:0", Group = "g", Index = 0, Ordinal = 0, Spec = "a.spec.ts", Viewport = "desktop", Browser = "chrome" };

        var result = await new ProcessSpecRunner(config, context, TimeProvider.System)
            .RunAsync(new ClaimedTask(task, 1, 0, context.RunId, 1000), CancellationToken.None);

        Assert.Equal(AttemptResult.Passed, result.Result);
        Assert.EndsWith("400000\n", result.OutputTail);
        var log = Path.Combine(context.RunDirectory, ProcessSpecRunner.LogFolder, "task_g_0.attempt-1.log");
        Assert.InRange(new FileInfo(log).Length, AttemptLog.MaxBytes / 2, AttemptLog.MaxBytes + 200);
        Assert.StartsWith("1\n2\n3\n", File.ReadAllText(log));
        Assert.Contains(" bytes cut from the middle of this log", File.ReadAllText(log));
        Assert.Equal(PrivateFiles.OwnerOnlyFile, File.GetUnixFileMode(log));
    }
}

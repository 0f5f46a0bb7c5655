using System.Text.Json;
using System.Text.RegularExpressions;
using Corral.WorkQueue;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.EndToEnd.Tests.WorkQueue;

/// <summary>
/// A spec folder for one end-to-end test: a tiny runner script whose behaviour each spec name picks, a spec list, and a
/// workqueue.yaml; runs the real corral binary on it with dynamic ports and its own data folder.
/// </summary>
internal sealed partial class WorkQueueRun : IDisposable
{
    /// <summary>
    /// thief: looks for a credential every way a spec can (its parent's environ, the run folder's secrets and control
    /// file, descriptors it inherited), reports the run passed with each it found, records the answers in
    /// pids/thief.report, and fails. quick: 0.3 s. slow: on attempt 1 starts a child and waits (long), later attempts 0.2 s. hang: a child and a long wait on
    /// every attempt. escape: a child that leaves for a session of its own (as a daemon does), and a long wait. flaky: fails attempt 1. gate: writes its process group to pids/, then passes once three gate specs
    /// have started (fails after 15 s otherwise). ansi: fails printing colour escapes and control characters. loud: prints
    /// 2.6 MB. Each attempt writes its pid (and its child's) under pids/.
    /// </summary>
    private const string Runner = """
        #!/bin/sh
        set -u
        spec="$1"
        echo $$ > "pids/$TASK_KEY.$ATTEMPT.pid"
        echo "spec $spec $TASK_KEY attempt $ATTEMPT on $VIEWPORT-$BROWSER run $RUN_ID credential=${CORRAL_CREDENTIAL_FILE:-none}"
        case "$spec" in
          quick) sleep 0.3 ;;
          medium) sleep 0.8 ;;
          flaky) sleep 0.2; [ "$ATTEMPT" -gt 1 ] || { echo "flaky failure"; exit 1; } ;;
          slow) if [ "$ATTEMPT" = 1 ]; then sleep 300 & echo $! > "pids/$TASK_KEY.$ATTEMPT.child"; wait; fi; sleep 0.2 ;;
          gate) cut -d' ' -f5 /proc/$$/stat > "pids/$TASK_KEY.$ATTEMPT.gate"; n=0
                while [ "$(ls pids | grep -c '[.]gate$')" -lt 3 ]; do
                  n=$((n + 1)); [ $n -le 300 ] || { echo "gate: not three at once"; exit 1; }; sleep 0.05
                done ;;
          hang) sleep 300 & echo $! > "pids/$TASK_KEY.$ATTEMPT.child"; wait ;;
          escape) setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "pids/$TASK_KEY.$ATTEMPT.child"; sleep 300 ;;
          ansi) printf '\033[31m✘ red failure\033[0m \001\007 bell\n'; exit 1 ;;
          loud) seq 1 400000 ;;
          thief) report="pids/thief.report"; : > "$report"; found=""; cred='c1[.][A-Za-z0-9_-]*[.][A-Za-z0-9_-]*'
                 # its parent's (the worker node's) environment
                 penv=$(tr '\0' '\n' < /proc/$PPID/environ 2>/dev/null)
                 url=$(printf '%s\n' "$penv" | sed -n 's/^CORRAL_CONTROL_URL=//p')
                 file=$(printf '%s\n' "$penv" | sed -n 's/^CORRAL_CREDENTIAL_FILE=//p')
                 found="$found $(printf '%s\n' "$penv" | sed -n 's/^CORRAL_TOKEN=//p') $(printf '%s\n' "$penv" | grep -o "$cred")"
                 # the run folder: the node's credential file, whatever is in secrets/, the control file
                 run="../data/runs/$RUN_ID"
                 for f in "$file" "$run"/secrets/* "$run/control.json"; do
                   [ -f "$f" ] && [ -r "$f" ] && { echo "read $f" >> "$report"; found="$found $(grep -o "$cred" "$f") $(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' "$f")"; }
                 done
                 [ -n "$url" ] || url=$(sed -n 's/.*"url": *"\([^"]*\)".*/\1/p' "$run/control.json")
                 # descriptors inherited from the node
                 for fd in /proc/self/fd/*; do
                   n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null || continue
                   found="$found $(timeout 1 head -c 65536 "$fd" 2>/dev/null | grep -ao "$cred")"
                 done
                 for c in $found; do
                   status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $c" -H 'Content-Type: application/json' \
                     -d '{"passed":true,"summary":{"by":"a spec"}}' "${url%/}/v1/finished")
                   echo "finished with a credential found: $status" >> "$report"
                 done
                 echo "control $url" >> "$report"; echo "end" >> "$report"; exit 1 ;;
        esac
        echo done
        """;

    private readonly TempFolder _folder = new("corral-wq-e2e-");

    public WorkQueueRun(string specs, string settings)
    {
        Directory.CreateDirectory(_folder.Combine("specs", "pids"));
        File.WriteAllText(_folder.Combine("specs", "run.sh"), Runner.Replace("\r", ""));
        File.WriteAllText(_folder.Combine("specs", "map.json"), specs);
        Topology = _folder.Write("workqueue.yaml", $"""
            app: workqueue
            specs: specs/map.json
            command: [sh, run.sh, "{"{spec}"}"]
            {settings}
            """);
    }

    public string Topology { get; }
    public string Data => _folder.Combine("data");
    public string Pids => _folder.Combine("specs", "pids");

    /// <summary>A spec list of one group <c>g</c> with one desktop/chrome task per spec name.</summary>
    public static string SpecList(params string[] specs) =>
        "{\"groups\": [{\"name\": \"g\", \"tasks\": [" +
        string.Join(", ", specs.Select(s => $"{{\"spec\": \"{s}\", \"viewports\": [\"desktop\"], \"browsers\": [\"chrome\"]}}")) + "]}]}";

    public CorralProcess Up(params string[] extra) =>
        CorralProcess.Start(_folder.Path, ["up", Topology, "--ports", "dynamic", "--data", Data, "--grace", "3s", .. extra]);

    public static string RunFolderOf(CorralProcess corral) =>
        RunLine().Match(corral.Output).Groups["folder"].Value is { Length: > 0 } folder ? folder : throw new Xunit.Sdk.XunitException("no run line:\n" + corral.Output);

    public static string RunIdOf(CorralProcess corral) => Path.GetFileName(RunFolderOf(corral));

    public static ResultsFile Results(CorralProcess corral) =>
        JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(RunFolderOf(corral), "results", "results.json")), WorkQueueJson.Default.ResultsFile)!;

    /// <summary>A pid a spec wrote, once it exists.</summary>
    public async Task<int> PidAsync(string file, TimeSpan timeout)
    {
        var path = Path.Combine(Pids, file);
        await Eventually.TrueAsync(() => File.Exists(path) && File.ReadAllText(path).Trim().Length > 0, timeout, $"the spec to write {file}");
        return int.Parse(File.ReadAllText(path).Trim());
    }

    /// <summary>The parent of a process, from <c>/proc/PID/stat</c>.</summary>
    public static int ParentOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
    }

    /// <summary>The tasks the controller reported passed in these lines, with the attempt and worker it printed.</summary>
    public static IReadOnlyList<(string Key, int Attempt, string Worker)> Passed(IEnumerable<string> lines) => lines
        .Select(l => PassedLine().Match(l))
        .Where(m => m.Success)
        .Select(m => (m.Groups["key"].Value, int.Parse(m.Groups["attempt"].Value), m.Groups["worker"].Value))
        .ToArray();

    /// <summary>The tasks and final tasks a resumed controller found in its store, from its "resumed from the store" line.</summary>
    public static (int Tasks, int Final) Resumed(CorralProcess corral, string runId) =>
        corral.Lines.Select(l => ResumedLine().Match(l)).LastOrDefault(m => m.Success && m.Groups["id"].Value == runId) is { } m
            ? (int.Parse(m.Groups["tasks"].Value), int.Parse(m.Groups["final"].Value))
            : throw new Xunit.Sdk.XunitException($"no resume line for run {runId}:\n" + corral.Output);

    /// <summary>
    /// Work finished before a kill survives it: the resumed controller counts each task reported passed before the kill as
    /// final, and the results keep it passed once, by the attempt and worker printed before the kill.
    /// </summary>
    public static void AssertFinishedWorkSurvived(IReadOnlyList<(string Key, int Attempt, string Worker)> passedBeforeKill,
        (int Tasks, int Final) resumed, ResultsFile results)
    {
        Assert.NotEmpty(passedBeforeKill);
        Assert.True(resumed.Final >= passedBeforeKill.Count,
            $"the resumed controller found {resumed.Final} final tasks, but {passedBeforeKill.Count} had passed before the kill");
        foreach (var (key, attempt, worker) in passedBeforeKill)
        {
            var task = Assert.Single(results.Tasks, t => t.Task.Key == key);
            Assert.Equal("passed", task.Task.Result);
            var pass = Assert.Single(task.Attempts, a => a.Result == AttemptResult.Passed);
            Assert.Equal((key, attempt, worker), (key, pass.Attempt, pass.Worker));
        }
    }

    [GeneratedRegex(@"run (?<id>\S+) of workqueue in (?<folder>\S+)")]
    private static partial Regex RunLine();

    [GeneratedRegex(@"(?<key>task:\S+) passed: .*, attempt (?<attempt>\d+), (?<worker>\S+)$")]
    private static partial Regex PassedLine();

    [GeneratedRegex(@"run (?<id>\S+) resumed from the store: (?<tasks>\d+) tasks, (?<final>\d+) final")]
    private static partial Regex ResumedLine();

    public void Dispose() => _folder.Dispose();
}

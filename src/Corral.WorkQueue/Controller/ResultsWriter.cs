using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using Corral.Node.Storage;
using Corral.WorkQueue.PlaywrightRuns;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Controller;

/// <summary>The run's <c>results.json</c>: every task with its final state and every attempt.</summary>
public sealed record ResultsFile(string RunId, ProgressView Progress, IReadOnlyList<ResultsFileTask> Tasks);

/// <summary>One task in <c>results.json</c>.</summary>
public sealed record ResultsFileTask(TaskView Task, IReadOnlyList<AttemptRecord> Attempts)
{
    /// <summary>The task's Playwright tests (from its attempts' JSON reports); empty for other runners.</summary>
    public IReadOnlyList<TestView> Tests { get; init; } = [];
}

/// <summary>Writes <c>&lt;run&gt;/results/junit.xml</c> (the JUnit XML CI servers read) and <c>results.json</c>, each atomically.</summary>
internal static class ResultsWriter
{
    public const string Folder = "results";
    public const string JUnitFile = "junit.xml";
    public const string JsonFile = "results.json";

    public static (string JUnit, string Json) Write(string runDirectory, ResultsDocument document, IReadOnlyList<AttemptRecord> attempts)
    {
        var folder = Path.Combine(runDirectory, Folder);
        Directory.CreateDirectory(folder);
        var junit = Path.Combine(folder, JUnitFile);
        var json = Path.Combine(folder, JsonFile);
        var tests = document.Tasks.ToDictionary(t => t.Key,
            t => t.Status == "complete" && t.State != TaskState.Skipped ? TaskTests.Read(runDirectory, t.Key, t.Attempts) : []);
        WriteAtomically(junit, JUnit(document, attempts, tests));
        var byKey = attempts.GroupBy(a => a.Key).ToDictionary(g => g.Key, g => (IReadOnlyList<AttemptRecord>)g.OrderBy(a => a.Attempt).ToArray());
        var file = new ResultsFile(document.RunId, document.Progress,
            document.Tasks.Select(t => new ResultsFileTask(t with { OutputTail = t.OutputTail is null ? null : XmlText.CleanTail(t.OutputTail) },
                byKey.GetValueOrDefault(t.Key, [])) { Tests = tests[t.Key] }).ToArray());
        WriteAtomically(json, JsonSerializer.Serialize(file, WorkQueueJson.Default.ResultsFile));
        return (junit, json);
    }

    /// <summary>
    /// One testsuite per group, one testcase per task (<c>spec [viewport-browser]</c>): a failed task has a
    /// <c>failure</c>, an error or a timeout an <c>error</c>; a flaky one passes and says so in <c>system-out</c>.
    /// A task whose Playwright tests are known has a testsuite of its own instead, one testcase per test
    /// (<see cref="PlaywrightJUnit"/>).
    /// </summary>
    public static string JUnit(ResultsDocument document, IReadOnlyList<AttemptRecord> attempts,
        IReadOnlyDictionary<string, IReadOnlyList<TestView>>? tests = null)
    {
        IReadOnlyList<TestView> TestsOf(TaskView t) => tests?.GetValueOrDefault(t.Key) ?? [];
        static string Seconds(long? ms) => ((ms ?? 0) / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);
        using var buffer = new MemoryStream();
        // CheckCharacters stays on: anything from a spec goes through XmlText.Clean first, so a slip throws here
        // in tests rather than writing a file no CI server can read.
        using (var xml = XmlWriter.Create(buffer, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) }))
        {
            var tasks = document.Tasks.Where(t => TestsOf(t).Count == 0).ToArray();
            var withTests = document.Tasks.Where(t => TestsOf(t).Count > 0).ToArray();
            xml.WriteStartDocument();
            xml.WriteStartElement("testsuites");
            xml.WriteAttributeString("name", $"corral workqueue {document.RunId}");
            WriteCounts(xml, tasks, withTests.SelectMany(TestsOf).ToArray());
            xml.WriteAttributeString("time", Seconds(document.Progress.ElapsedMs));
            foreach (var t in withTests) PlaywrightJUnit.WriteSuite(xml, t, TestsOf(t));
            foreach (var group in tasks.GroupBy(t => t.Group))
            {
                xml.WriteStartElement("testsuite");
                xml.WriteAttributeString("name", group.Key);
                WriteCounts(xml, group.ToArray());
                xml.WriteAttributeString("time", Seconds(group.Sum(t => t.DurationMs ?? 0)));
                foreach (var t in group)
                {
                    xml.WriteStartElement("testcase");
                    xml.WriteAttributeString("classname", t.Group);
                    xml.WriteAttributeString("name", $"{t.Spec} [{t.Viewport}-{t.Browser}]");
                    xml.WriteAttributeString("time", Seconds(t.DurationMs));
                    var tried = $"after {t.Attempts} attempt{(t.Attempts == 1 ? "" : "s")}";
                    switch (t.State)
                    {
                        case TaskState.Failed:
                            xml.WriteStartElement("failure");
                            xml.WriteAttributeString("message", $"failed (exit {t.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}) {tried}");
                            xml.WriteAttributeString("type", "failed");
                            xml.WriteString(XmlText.CleanTail(t.OutputTail));
                            xml.WriteEndElement();
                            break;
                        case TaskState.Error or TaskState.TimedOut or TaskState.Waiting or TaskState.Running:
                            xml.WriteStartElement("error");
                            xml.WriteAttributeString("message", t.State switch
                            {
                                TaskState.TimedOut => $"timed out {tried}",
                                TaskState.Error => $"error {tried}" + (t.ExitCode is { } exit ? $" (exit {exit})" : " (lost its worker too often, or could not start)"),
                                _ => "not run to the end",
                            });
                            xml.WriteAttributeString("type", t.Result);
                            xml.WriteString(XmlText.CleanTail(t.OutputTail));
                            xml.WriteEndElement();
                            break;
                        case TaskState.Skipped:
                            xml.WriteStartElement("skipped");
                            xml.WriteAttributeString("message", XmlText.Clean(t.Reason));
                            xml.WriteEndElement();
                            break;
                        case TaskState.Flaky:
                            xml.WriteElementString("system-out", $"flaky: passed {tried}; earlier attempts: " +
                                string.Join(", ", attempts.Where(a => a.Key == t.Key).OrderBy(a => a.Attempt).Select(a => $"{a.Attempt} {SqliteTaskStore.ResultName(a.Result)}")));
                            break;
                    }

                    xml.WriteEndElement();
                }

                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            xml.WriteEndDocument();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteCounts(XmlWriter xml, IReadOnlyCollection<TaskView> tasks, IReadOnlyCollection<TestView>? tests = null)
    {
        var (testCount, failures, errors, skipped) = PlaywrightJUnit.Counts(tests ?? []);
        static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
        xml.WriteAttributeString("tests", N(tasks.Count + testCount));
        xml.WriteAttributeString("failures", N(tasks.Count(t => t.State == TaskState.Failed) + failures));
        xml.WriteAttributeString("errors", N(tasks.Count(t => t.State is TaskState.Error or TaskState.TimedOut or TaskState.Waiting or TaskState.Running) + errors));
        xml.WriteAttributeString("skipped", N(tasks.Count(t => t.State == TaskState.Skipped) + skipped));
    }

    private static void WriteAtomically(string path, string content)
    {
        var temporary = path + ".tmp";
        using (var stream = PrivateFiles.OpenForWriting(temporary, FileMode.Create))
        {
            stream.Write(new UTF8Encoding(false).GetBytes(content));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}

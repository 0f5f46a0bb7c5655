using System.Globalization;
using System.Xml;
using Corral.WorkQueue.Controller;
using XmlText = Corral.WorkQueue.Controller.XmlText;

namespace Corral.WorkQueue.PlaywrightRuns;

/// <summary>
/// The JUnit testsuite of one Playwright task: named <c>spec [project]</c>, one testcase per test (classname the spec
/// file, name the describe path and title), a <c>failure</c> with the assertion's message for a failed test, an
/// <c>error</c> for a timed-out or interrupted one, <c>skipped</c> for a skipped one, and for a flaky one the attempts
/// in <c>system-out</c>.
/// </summary>
internal static class PlaywrightJUnit
{
    public static (int Tests, int Failures, int Errors, int Skipped) Counts(IReadOnlyCollection<TestView> tests) =>
        (tests.Count, tests.Count(t => t.Status == "failed"), tests.Count(t => t.Status is "timed-out" or "interrupted"), tests.Count(t => t.Status == "skipped"));

    public static void WriteSuite(XmlWriter xml, TaskView task, IReadOnlyList<TestView> tests)
    {
        var project = $"{task.Viewport}-{task.Browser}";
        var (count, failures, errors, skipped) = Counts(tests);
        xml.WriteStartElement("testsuite");
        xml.WriteAttributeString("name", $"{task.Spec} [{project}]");
        xml.WriteAttributeString("tests", N(count));
        xml.WriteAttributeString("failures", N(failures));
        xml.WriteAttributeString("errors", N(errors));
        xml.WriteAttributeString("skipped", N(skipped));
        xml.WriteAttributeString("time", Seconds(tests.Sum(t => t.DurationMs)));
        xml.WriteStartElement("properties");
        Property(xml, "task", task.Key);
        Property(xml, "attempts", N(task.Attempts));
        Property(xml, "result", task.Result);
        xml.WriteEndElement();
        foreach (var test in tests)
        {
            xml.WriteStartElement("testcase");
            xml.WriteAttributeString("classname", task.Spec);
            xml.WriteAttributeString("name", $"{test.Title} [{project}]");
            xml.WriteAttributeString("time", Seconds(test.DurationMs));
            switch (test.Status)
            {
                case "failed" or "timed-out" or "interrupted":
                    xml.WriteStartElement(test.Status == "failed" ? "failure" : "error");
                    xml.WriteAttributeString("message", FirstLine(test.Error) ?? test.Status);
                    xml.WriteAttributeString("type", test.Status);
                    xml.WriteString(XmlText.Clean(test.Error));
                    xml.WriteEndElement();
                    break;
                case "skipped":
                    xml.WriteElementString("skipped", "");
                    break;
                case "flaky":
                    xml.WriteElementString("system-out", XmlText.Clean($"flaky: passed on attempt {test.Attempts[^1].Attempt}; " +
                        string.Join("; ", test.Attempts.Select(a => $"attempt {a.Attempt} {a.Status}{(a.Error is null ? "" : ": " + FirstLine(a.Error))}"))));
                    break;
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
    }

    private static void Property(XmlWriter xml, string name, string value)
    {
        xml.WriteStartElement("property");
        xml.WriteAttributeString("name", name);
        xml.WriteAttributeString("value", XmlText.Clean(value));
        xml.WriteEndElement();
    }

    private static string? FirstLine(string? text) =>
        text is null ? null : XmlText.Clean(text.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? text);

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(long ms) => (ms / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);
}

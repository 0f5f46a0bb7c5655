namespace Corral.WorkQueue.Tests.PlaywrightReports;

/// <summary>Playwright JSON reports in the shape 1.65's json reporter writes (trimmed to the fields Corral reads).</summary>
internal static class PlaywrightReportFixtures
{
    /// <summary>One file, a describe block with a failing and a passing test, and a test outside any describe.</summary>
    public static string Report(string outputFolder, bool firstFails) => $$"""
        {
          "config": {"rootDir": "/specs/tests"},
          "suites": [{
            "title": "kids_clothing_search.spec.ts", "file": "kids_clothing_search.spec.ts", "line": 0,
            "specs": [{
              "title": "loads the page", "file": "kids_clothing_search.spec.ts", "line": 3, "ok": true,
              "tests": [{"projectName": "mobile-chrome", "status": "expected",
                "results": [{"status": "passed", "duration": 1200.5, "retry": 0, "attachments": []}]}]
            }],
            "suites": [{
              "title": "kids clothing search", "file": "kids_clothing_search.spec.ts", "line": 8,
              "specs": [
                {"title": "filters by size and colour", "file": "kids_clothing_search.spec.ts", "line": 9, "ok": {{(firstFails ? "false" : "true")}},
                 "tests": [{"projectName": "mobile-chrome", "status": "{{(firstFails ? "unexpected" : "expected")}}",
                   "results": [{"status": "{{(firstFails ? "failed" : "passed")}}", "duration": 6752, "retry": 0,
                     {{(firstFails ? "\"error\": {\"message\": \"\\u001b[2mexpect(\\u001b[22mlocator).toHaveCount(2) failed\\n\\nExpected: 2\\nReceived: 0\"}," : "")}}
                     "attachments": [{{(firstFails ? $"{{\"name\": \"screenshot\", \"contentType\": \"image/png\", \"path\": \"{outputFolder}/kids-filters/test-failed-1.png\"}}, {{\"name\": \"trace\", \"contentType\": \"application/zip\", \"path\": \"{outputFolder}/kids-filters/trace.zip\"}}, {{\"name\": \"elsewhere\", \"contentType\": \"text/plain\", \"path\": \"/etc/passwd\"}}" : "")}}]}]}]},
                {"title": "is skipped", "file": "kids_clothing_search.spec.ts", "line": 20, "ok": true,
                 "tests": [{"projectName": "mobile-chrome", "status": "skipped", "results": [{"status": "skipped", "duration": 0, "attachments": []}]}]}
              ]
            }]
          }],
          "errors": [],
          "stats": {"expected": 1, "unexpected": 1, "flaky": 0, "skipped": 1}
        }
        """;
}

namespace Corral.WorkQueue.Reporter;

/// <summary>
/// The reporter page (<c>GET /results</c>): the original's table (Result, Status, Spec, Viewport, Browser, Duration) plus
/// attempts and worker, coloured as the original coloured it, kept live by the server-sent events of <c>/api/events</c>.
/// Self-contained: no script or font from anywhere else, so it works offline.
/// </summary>
internal static class ReporterPage
{
    public const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>funkytown workqueue reporter</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
          h1 { font-size: 1.4rem; }
          #summary { margin: .5rem 0 1rem; }
          #summary span { margin-right: 1.2rem; }
          #bar { height: .6rem; background: #ddd; border-radius: .3rem; overflow: hidden; max-width: 40rem; }
          #bar div { height: 100%; background: #2e7d32; width: 0; transition: width .3s; }
          table { border-collapse: collapse; margin-top: 1rem; }
          th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; font-size: .9rem; }
          th { background: #f3f3f3; }
          .passed { background: #c8e6c9; }
          .flaky { background: #fff3c4; }
          .failed, .error, .timed-out { background: #ffcdd2; }
          .running { background: #b2dfdb; }
          .waiting, .unknown { background: #eeeeee; color: #666; }
          .skipped { background: #e3f2fd; color: #555; }
          .complete { background: #cfcfcf; }
          #live { font-size: .8rem; color: #666; }
          tr.tests td { background: #fafafa; font-size: .85rem; }
          tr.tests ul { margin: .2rem 0; padding-left: 1.2rem; }
          tr.tests pre { margin: .2rem 0; white-space: pre-wrap; color: #b71c1c; }
          tr.tests a { margin-right: .6rem; }
        </style>
        </head>
        <body>
        <h1>Funkytown spec execution results</h1>
        <div id="summary">
          <span>Run: <b id="run">…</b></span>
          <span>Tasks Remaining: <b id="remaining">…</b></span>
          <span>Tasks Finished: <b id="finished-count">…</b></span>
          <span>Finished: <b id="finished">…</b></span>
        </div>
        <div id="progress"></div>
        <div id="bar"><div></div></div>
        <div id="live">connecting…</div>
        <table>
          <thead><tr><th>Result</th><th>Status</th><th>Spec</th><th>Viewport</th><th>Browser</th><th>Duration</th><th>Attempts</th><th>Worker</th><th>Key</th></tr></thead>
          <tbody id="tasks"></tbody>
        </table>
        <script>
        "use strict";
        function fmt(ms) {
          if (ms === null || ms === undefined) return "unknown";
          var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
          return (h ? h + "h" : "") + (h || m ? m + "m" : "") + (s % 60) + "s";
        }
        function cell(row, text, cls) {
          var td = document.createElement("td");
          td.textContent = text;
          if (cls) td.className = cls;
          row.appendChild(td);
        }
        // Each final task's Playwright tests (and their artifacts), fetched once per task and attempt count.
        var tests = {}, loading = {}, last = null;
        function loadTests(t) {
          var id = t.key + "#" + t.attempts;
          if (loading[id] || tests[id]) return;
          loading[id] = true;
          fetch("/api/tasks/" + encodeURIComponent(t.key) + "/tests").then(function (r) { return r.ok ? r.json() : []; })
            .then(function (list) { tests[id] = list; if (last) render(last); })
            .catch(function () { loading[id] = false; });
        }
        function testsRow(t) {
          var list = tests[t.key + "#" + t.attempts];
          if (!t.reason && (!list || list.length === 0)) return null;
          var row = document.createElement("tr"), td = document.createElement("td");
          row.className = "tests";
          row.dataset.key = t.key;
          td.colSpan = 9;
          if (t.reason) td.textContent = t.reason;
          var ul = document.createElement("ul");
          (list || []).forEach(function (test) {
            var li = document.createElement("li"), status = document.createElement("span");
            li.className = "test";
            li.dataset.status = test.status;
            status.className = test.status;
            status.textContent = test.status;
            li.appendChild(status);
            li.appendChild(document.createTextNode(" " + test.title + " (" + (test.durationMs / 1000).toFixed(1) + "s" +
              (test.attempts.length > 1 ? ", attempts: " + test.attempts.map(function (a) { return a.attempt + " " + a.status; }).join(", ") : "") + ") "));
            test.attempts.forEach(function (a) {
              a.artifacts.forEach(function (f) {
                var link = document.createElement("a");
                link.className = "artifact";
                link.href = f.url;
                link.textContent = f.name + (test.attempts.length > 1 ? " (attempt " + a.attempt + ")" : "");
                li.appendChild(link);
              });
            });
            if (test.error) {
              var pre = document.createElement("pre");
              pre.textContent = test.error.split("\n").slice(0, 6).join("\n");
              li.appendChild(pre);
            }
            ul.appendChild(li);
          });
          td.appendChild(ul);
          row.appendChild(td);
          return row;
        }
        function render(doc) {
          last = doc;
          var p = doc.progress;
          document.getElementById("run").textContent = doc.runId;
          document.getElementById("remaining").textContent = p.total - p.done;
          document.getElementById("finished-count").textContent = p.done;
          document.getElementById("finished").textContent = p.finished ? "true" : "false";
          document.getElementById("progress").textContent =
            p.done + "/" + p.total + " done · " + p.passed + " passed · " + p.failed + " failed · " + (p.errors + p.timedOut) +
            " error · " + p.flaky + " flaky · " + p.running + " running · elapsed " + fmt(p.elapsedMs) +
            " · estimated finish " + (p.finished ? "done" : (p.estimatedRemainingMs === null ? "unknown" : "in " + fmt(p.estimatedRemainingMs + 999)));
          document.querySelector("#bar div").style.width = (p.total ? 100 * p.done / p.total : 0) + "%";
          var body = document.getElementById("tasks");
          var rows = document.createDocumentFragment();
          doc.tasks.forEach(function (t) {
            var row = document.createElement("tr");
            row.id = t.key;
            row.dataset.state = t.state;
            cell(row, t.result, t.result);
            if (t.reason) row.lastChild.title = t.reason;
            cell(row, t.status, t.status);
            cell(row, t.spec);
            cell(row, t.viewport);
            cell(row, t.browser);
            cell(row, t.duration);
            cell(row, String(t.attempts));
            cell(row, t.worker || "");
            cell(row, t.key);
            rows.appendChild(row);
            if (t.status === "complete" && t.result !== "skipped") loadTests(t);
            var detail = testsRow(t);
            if (detail) rows.appendChild(detail);
          });
          body.replaceChildren(rows);
        }
        function connect() {
          var events = new EventSource("/api/events");
          events.onopen = function () { document.getElementById("live").textContent = "live"; };
          events.onmessage = function (e) { render(JSON.parse(e.data)); };
          events.onerror = function () { document.getElementById("live").textContent = "reconnecting…"; };
        }
        fetch("/api/results").then(function (r) { return r.json(); }).then(render).finally(connect);
        </script>
        </body>
        </html>
        """;
}

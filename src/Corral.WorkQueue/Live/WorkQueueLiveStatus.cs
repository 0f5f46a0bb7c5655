using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Corral.Node.Apps;
using Corral.Node.Control;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.Store;

namespace Corral.WorkQueue.Live;

/// <summary>The terminal's progress bar under the scrolling logs: polls the controller's <c>/api/results</c> twice a second.</summary>
internal sealed class WorkQueueLiveStatus : ILiveStatus
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    public async IAsyncEnumerable<IReadOnlyList<string>> WatchAsync(ControlClient control, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (!cancellationToken.IsCancellationRequested)
        {
            ResultsDocument? document = null;
            try
            {
                var membership = await control.GetMembershipAsync(cancellationToken);
                if (membership.OfRole(WorkQueuePlan.ControllerRole).FirstOrDefault() is { } controller)
                {
                    document = await http.GetFromJsonAsync(new Uri(new Uri(controller.Url()), QueueRoutes.Results), WorkQueueJson.Default.ResultsDocument, cancellationToken);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
            {
                // The controller is restarting or the run is ending: keep the last bar until it answers again.
            }

            if (document is not null) yield return Render(document);
            try
            {
                await Task.Delay(Interval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    /// <summary>Two lines: the bar with the counts and the estimate, then what is running where.</summary>
    public static IReadOnlyList<string> Render(ResultsDocument document)
    {
        const int width = 30;
        var p = document.Progress;
        var filled = p.Total == 0 ? 0 : p.Done * width / p.Total;
        var eta = p.Finished ? "done" : p.EstimatedRemainingMs is { } ms ? $"about {ResultsView.GoDuration(ms + 999)} left" : "estimating";
        var running = document.Tasks.Where(t => t.State == TaskState.Running).Select(t => $"{t.Key} ({t.Worker})").ToArray();
        return
        [
            $"[{new string('#', filled)}{new string('.', width - filled)}] {p.Done}/{p.Total} final · {p.Passed} passed · {p.Flaky} flaky · " +
            $"{p.Failed} failed · {p.Errors + p.TimedOut} error · {(p.Skipped > 0 ? $"{p.Skipped} skipped · " : "")}elapsed {ResultsView.GoDuration(p.ElapsedMs)} · {eta}",
            running.Length == 0 ? "running: nothing" : "running: " + string.Join(", ", running.Take(6)) + (running.Length > 6 ? $", +{running.Length - 6} more" : ""),
        ];
    }
}

using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Corral.Node.Apps;
using Corral.Node.Control;
using Corral.Shootout.Config;
using Corral.Shootout.Server;

namespace Corral.Shootout.Live;

/// <summary>Polls <c>/state</c> (the game server's, or in peer mode a cowboy's) a few times a second for the terminal's health table.</summary>
internal sealed class ShootoutLiveStatus : ILiveStatus
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    public async IAsyncEnumerable<IReadOnlyList<string>> WatchAsync(ControlClient control, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        while (!cancellationToken.IsCancellationRequested)
        {
            GameSnapshot? state = null;
            try
            {
                var membership = await control.GetMembershipAsync(cancellationToken);
                // Server mode asks the game server; peer mode any cowboy, since each shows the state agreed in etcd.
                if ((membership.OfRole(ShootoutPlan.ServerRole).FirstOrDefault() ?? membership.OfRole(ShootoutPlan.CowboyRole).FirstOrDefault()) is { } node)
                {
                    state = await http.GetFromJsonAsync(new Uri(new Uri(node.Url()), "/state"), ShootoutJson.Default.GameSnapshot, cancellationToken);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
            {
                // The server is restarting or the run is ending: keep the last table until it answers again.
            }

            if (state is { Cowboys.Count: > 0 })
            {
                yield return HealthTable.Render(state);
            }

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
}

using System.Globalization;
using Corral.Shootout.Server;

namespace Corral.Shootout.Live;

/// <summary>Renders the cowboys' health as a few plain lines for the terminal footer of <c>corral up</c>.</summary>
internal static class HealthTable
{
    private const int BarWidth = 20;

    public static IReadOnlyList<string> Render(GameSnapshot state)
    {
        var width = Math.Max(6, state.Cowboys.Max(c => c.Name.Length));
        var lines = new List<string>(state.Cowboys.Count + 1)
        {
            $"── round {state.Round}/{state.Rounds} · {state.Status} · {state.Cowboys.Count(c => c.Alive)} alive{(state.Leader is { } l ? $" · leader {l}" : "")} ──",
        };
        foreach (var cowboy in state.Cowboys)
        {
            var filled = cowboy.MaxHealth == 0 ? 0 : (int)Math.Ceiling(BarWidth * (double)cowboy.Health / cowboy.MaxHealth);
            var bar = new string('█', filled) + new string('·', BarWidth - filled);
            var health = cowboy.Alive
                ? $"{cowboy.Health.ToString(CultureInfo.InvariantCulture),4}/{cowboy.MaxHealth.ToString(CultureInfo.InvariantCulture)}"
                : "dead";
            lines.Add($"{cowboy.Name.PadRight(width)} {bar} {health,-9} {cowboy.Node ?? "(not registered)"}");
        }

        return lines;
    }
}

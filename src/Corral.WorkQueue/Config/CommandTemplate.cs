using System.Globalization;
using Corral.Node.Text;

namespace Corral.WorkQueue.Config;

/// <summary>
/// The spec command's placeholders: <c>{spec}</c>, <c>{browser}</c>, <c>{viewport}</c>, <c>{project}</c>
/// (<c>viewport-browser</c>, the original's Playwright project name), <c>{key}</c>, <c>{attempt}</c>; <c>{{</c> is a brace.
/// Each argument is expanded on its own and never split or parsed by a shell.
/// </summary>
internal static class CommandTemplate
{
    public static readonly string[] Names = ["spec", "browser", "viewport", "project", "key", "attempt"];

    public static IReadOnlyList<string> Expand(IReadOnlyList<string> command, TaskDefinition task, int attempt) =>
        command.Select(arg => Placeholders.Expand(arg, name => name switch
        {
            "spec" => task.Spec,
            "browser" => task.Browser,
            "viewport" => task.Viewport,
            "project" => $"{task.Viewport}-{task.Browser}",
            "key" => task.Key,
            "attempt" => attempt.ToString(CultureInfo.InvariantCulture),
            _ => throw new FormatException(Unknown(arg, name)),
        })).ToArray();

    /// <summary>Why an argument cannot be expanded, or null when it can.</summary>
    public static string? Check(string argument) => Placeholders.Check(argument, Names.Contains, name => Unknown(argument, name));

    private static string Unknown(string argument, string name) =>
        $"'{{{name}}}' in '{argument}' is not a placeholder; valid: {string.Join(", ", Names.Select(n => $"{{{n}}}"))} ('{{{{' for a brace)";
}

using System.Globalization;
using System.Text;

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
        command.Select(arg => Walk(arg, name => name switch
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
    public static string? Check(string argument)
    {
        try
        {
            Walk(argument, name => Names.Contains(name) ? "" : throw new FormatException(Unknown(argument, name)));
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }

    private static string Unknown(string argument, string name) =>
        $"'{{{name}}}' in '{argument}' is not a placeholder; valid: {string.Join(", ", Names.Select(n => $"{{{n}}}"))} ('{{{{' for a brace)";

    private static string Walk(string template, Func<string, string> value)
    {
        var result = new StringBuilder(template.Length);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                result.Append(c);
                i++;
            }
            else if (c == '{')
            {
                var end = template.IndexOf('}', i + 1);
                if (end < 0) throw new FormatException($"'{template}' has a '{{' without its '}}' (write '{{{{' for a brace)");
                result.Append(value(template[(i + 1)..end]));
                i = end;
            }
            else
            {
                result.Append(c);
            }
        }

        return result.ToString();
    }
}

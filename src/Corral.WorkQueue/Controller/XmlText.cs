using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace Corral.WorkQueue.Controller;

/// <summary>
/// Text from a spec's output made safe for XML 1.0. Test runners print ANSI colour escapes all the time, and an
/// <see cref="XmlWriter"/> throws on the escape character: the escapes are removed (a JUnit reader shows no colours
/// anyway) and any other character XML cannot hold becomes U+FFFD, so one spec's output can never stop the results.
/// </summary>
internal static partial class XmlText
{
    /// <summary>The most characters of one task's output the results keep: the end of it, where a failure is said.</summary>
    public const int MaxOutput = 64 * 1024;

    private const char Replacement = '\uFFFD';

    /// <summary>
    /// <see cref="Clean"/>, then at most the last <see cref="MaxOutput"/> characters, after a line saying how many were cut:
    /// the output comes from a worker's report, and one report must not make the results files as large as it likes.
    /// </summary>
    public static string CleanTail(string? text)
    {
        var cleaned = Clean(text);
        if (cleaned.Length <= MaxOutput)
        {
            return cleaned;
        }

        var start = cleaned.Length - MaxOutput;
        if (char.IsLowSurrogate(cleaned[start]))
        {
            start++;
        }

        return $"[corral] {start} characters cut before this\n" + cleaned[start..];
    }

    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        text = AnsiEscape().Replace(text, "");
        StringBuilder? cleaned = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (XmlConvert.IsXmlChar(c))
            {
                cleaned?.Append(c);
            }
            else if (i + 1 < text.Length && XmlConvert.IsXmlSurrogatePair(text[i + 1], c))
            {
                cleaned?.Append(c).Append(text[i + 1]);
                i++;
            }
            else
            {
                cleaned ??= new StringBuilder(text.Length).Append(text, 0, i);
                cleaned.Append(Replacement);
            }
        }

        return cleaned?.ToString() ?? text;
    }

    /// <summary>CSI sequences (colours, cursor moves) and two-character escapes.</summary>
    [GeneratedRegex(@"\x1B(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")]
    private static partial Regex AnsiEscape();
}

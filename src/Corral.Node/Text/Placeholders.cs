using System.Text;

namespace Corral.Node.Text;

/// <summary>
/// The one template walker: <c>{name}</c> is replaced by what a function gives for <c>name</c>, <c>{{</c> and <c>}}</c> are
/// braces. The function decides which names exist (it throws a <see cref="FormatException"/> for the others).
/// </summary>
public static class Placeholders
{
    /// <summary>Expands <paramref name="template"/>; a <c>{</c> without its <c>}</c> is a <see cref="FormatException"/>.</summary>
    public static string Expand(string template, Func<string, string> value)
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
                if (end < 0)
                {
                    throw new FormatException($"'{template}' has a '{{' without its '}}' (write '{{{{' for a brace)");
                }

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

    /// <summary>
    /// Why <paramref name="template"/> cannot be expanded, or null when it can: an unclosed brace, or a name
    /// <paramref name="isKnown"/> refuses (the message then comes from <paramref name="unknown"/>).
    /// </summary>
    public static string? Check(string template, Func<string, bool> isKnown, Func<string, string> unknown)
    {
        try
        {
            Expand(template, name => isKnown(name) ? "" : throw new FormatException(unknown(name)));
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }
}

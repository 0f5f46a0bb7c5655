namespace Corral.Counter.Items;

/// <summary>
/// What an id or a tenant may be: 1 to <see cref="MaxLength"/> characters from <c>A-Z a-z 0-9 _ - . : @</c>, not
/// starting with a dot. Tenants are never file names here, yet a path-like name (<c>../x</c>) is refused anyway:
/// it is almost certainly a mistake, and the original wrote such a tenant outside its folder.
/// </summary>
public static class ItemRules
{
    public const int MaxLength = 128;
    public const string CharacterSet = "A-Z a-z 0-9 _ - . : @";

    /// <summary>Why <paramref name="value"/> is not a valid id or tenant, or null when it is.</summary>
    public static string? Problem(string value)
    {
        if (value.Length == 0) return "is empty";
        if (value.Length > MaxLength) return $"is {value.Length} characters long (at most {MaxLength})";
        if (value[0] == '.') return "starts with '.' (a path-like name)";
        foreach (var c in value)
        {
            if (!IsAllowed(c))
            {
                return c == '/' || c == '\\'
                    ? $"contains '{c}' (a path-like name); allowed characters: {CharacterSet}"
                    : $"contains {Describe(c)}; allowed characters: {CharacterSet}";
            }
        }

        return null;
    }

    private static bool IsAllowed(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.' or ':' or '@';

    private static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}'";

    /// <summary>A value as an error message shows it: quoted, and cut short when long.</summary>
    public static string Show(string value) => value.Length <= 40 ? $"'{value}'" : $"'{value[..40]}…' ({value.Length} characters)";
}

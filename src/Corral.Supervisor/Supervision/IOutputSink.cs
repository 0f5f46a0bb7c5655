namespace Corral.Supervisor.Supervision;

/// <summary>Where the supervisor writes what people read: each node's lines and its own messages.</summary>
public interface IOutputSink
{
    /// <summary>One line a node wrote to stdout or stderr.</summary>
    void NodeLine(string nodeId, string line);

    /// <summary>One of the supervisor's own messages (shown with a <c>corral |</c> prefix).</summary>
    void SupervisorLine(string line);
}

/// <summary>
/// Writes <c>name | line</c> to a text writer like <c>docker compose</c>: names padded to one width, each node
/// in a stable colour (from a hash of its name) when the writer is a terminal and <c>NO_COLOR</c> is unset.
/// </summary>
public sealed class ConsoleOutputSink : IOutputSink
{
    public const string SupervisorName = "corral";

    private static readonly string[] Palette = ["36", "33", "32", "35", "34", "96", "93", "92", "95", "94", "91"];
    private readonly TextWriter _writer;
    private readonly bool _colour;
    private readonly Lock _lock = new();
    private int _width = SupervisorName.Length;

    public ConsoleOutputSink(TextWriter writer, bool colour)
    {
        _writer = writer;
        _colour = colour;
    }

    /// <summary>Standard output, coloured only on a terminal and without <c>NO_COLOR</c>.</summary>
    public static ConsoleOutputSink ForConsole() =>
        new(Console.Out, !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")));

    public void NodeLine(string nodeId, string line) => Write(nodeId, line, ColourOf(nodeId));

    public void SupervisorLine(string line) => Write(SupervisorName, line, "1");

    private void Write(string name, string line, string colour)
    {
        lock (_lock)
        {
            _width = Math.Max(_width, name.Length);
            var padded = name.PadRight(_width);
            _writer.Write(_colour ? $"\u001b[{colour}m{padded} |\u001b[0m {line}\n" : $"{padded} | {line}\n");
            _writer.Flush();
        }
    }

    /// <summary>FNV-1a, because string.GetHashCode differs between runs and the colour should not.</summary>
    internal static string ColourOf(string name)
    {
        var hash = 2166136261u;
        foreach (var c in name)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return Palette[hash % (uint)Palette.Length];
    }
}

/// <summary>Discards every line (the supervisor's own log file already has them).</summary>
internal sealed class NullOutputSink : IOutputSink
{
    public static readonly NullOutputSink Instance = new();
    public void NodeLine(string nodeId, string line) { }
    public void SupervisorLine(string line) { }
}

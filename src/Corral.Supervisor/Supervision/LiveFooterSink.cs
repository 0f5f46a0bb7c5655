namespace Corral.Supervisor.Supervision;

/// <summary>
/// Keeps a few status lines pinned below the scrolling log on a terminal: before each log line the
/// footer is erased (ANSI "cursor up, clear to end of screen"), the line is written, the footer redrawn.
/// Lines are cut to the terminal's width so a wrapped line never breaks the count of lines to erase.
/// </summary>
public sealed class LiveFooterSink(IOutputSink inner, TextWriter terminal, Func<int> width) : IOutputSink
{
    private readonly Lock _lock = new();
    private IReadOnlyList<string> _footer = [];
    private int _drawn;

    public void NodeLine(string nodeId, string line) => Through(() => inner.NodeLine(nodeId, line));

    public void SupervisorLine(string line) => Through(() => inner.SupervisorLine(line));

    /// <summary>Replaces the footer; an empty list removes it.</summary>
    public void SetFooter(IReadOnlyList<string> lines) => Through(() => _footer = lines);

    private void Through(Action write)
    {
        lock (_lock)
        {
            if (_drawn > 0)
            {
                terminal.Write($"\u001b[{_drawn}F\u001b[J");
            }

            write();
            var columns = Math.Max(20, width() - 1);
            foreach (var line in _footer)
            {
                terminal.Write(line.Length > columns ? line[..columns] : line);
                terminal.Write('\n');
            }

            _drawn = _footer.Count;
            terminal.Flush();
        }
    }
}

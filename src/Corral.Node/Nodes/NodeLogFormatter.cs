using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Corral.Node.Nodes;

/// <summary>
/// One event per line, <c>HH:mm:ss.fff LVL message</c>: the supervisor adds the node's name in front,
/// so the category would only be noise. Exceptions follow on the same line, newlines flattened.
/// </summary>
internal sealed class NodeLogFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "corral";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (logEntry.Exception is not null)
        {
            message = $"{message} ({logEntry.Exception.GetType().Name}: {logEntry.Exception.Message})";
        }

        textWriter.Write(DateTime.Now.ToString("HH:mm:ss.fff"));
        textWriter.Write(' ');
        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(' ');
        textWriter.Write(message.ReplaceLineEndings(" "));
        textWriter.Write('\n');
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRC",
        LogLevel.Debug => "DBG",
        LogLevel.Information => "INF",
        LogLevel.Warning => "WRN",
        LogLevel.Error => "ERR",
        _ => "CRT",
    };
}

using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Corral.Counter.Worker;

/// <summary>
/// The original's <c>worker_logs</c>: a worker also writes its log lines to <c>&lt;worker_logs&gt;/&lt;port&gt;</c>,
/// truncated when the worker starts (as the original did at each spawn). The run folder keeps them too.
/// </summary>
internal sealed class FileLogProvider : ILoggerProvider
{
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();

    public FileLogProvider(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _writer = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    private void Write(string line)
    {
        lock (_lock)
        {
            _writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer.Dispose();
        }
    }

    private sealed class FileLogger(FileLogProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && (!category.StartsWith("Microsoft", StringComparison.Ordinal) || logLevel >= LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var time = DateTimeOffset.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
            provider.Write($"{time} {logLevel} {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
        }
    }
}

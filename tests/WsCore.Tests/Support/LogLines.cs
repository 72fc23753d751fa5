using System.Diagnostics;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace WsCore.Tests.Support;

/// <summary>
/// A Serilog sink that keeps every event a WsCore service logs, rendered, so a test can wait for a line and look at
/// its level, text and exception.
/// </summary>
public sealed class LogLines : ILogEventSink
{
    private readonly List<LogLine> _lines = [];

    /// <summary>A logger at Debug level that writes here.</summary>
    public ILogger Logger => new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(this).CreateLogger();

    public IReadOnlyList<LogLine> Lines
    {
        get
        {
            lock (_lines)
                return [.. _lines];
        }
    }

    public void Emit(LogEvent logEvent)
    {
        lock (_lines)
            _lines.Add(new LogLine(logEvent.Level, logEvent.RenderMessage(), logEvent.Exception));
    }

    /// <summary>Waits for a line matching <paramref name="match"/>; fails the test at the deadline.</summary>
    public async Task<LogLine> WaitForAsync(Func<LogLine, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (Lines.FirstOrDefault(match) is { } line)
                return line;
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"no matching log line within {timeout}; logged:\n" +
                    string.Join('\n', Lines.Select(l => $"{l.Level}: {l.Text}")));
            await Task.Delay(20);
        }
    }
}

/// <summary>One logged event: its level, its rendered text and its exception, if any.</summary>
public sealed record LogLine(LogEventLevel Level, string Text, Exception? Exception);

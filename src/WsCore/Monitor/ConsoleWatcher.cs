using System.Globalization;
using System.Text.RegularExpressions;

namespace WsCore.Monitor;

/// <summary>How a monitor session ended.</summary>
public enum MonitorOutcome
{
    /// <summary>A line matched the pattern waited for.</summary>
    Matched,
    /// <summary>The time limit passed first.</summary>
    TimedOut,
    /// <summary>The firmware crashed: a panic, abort, failed assertion or stack overflow report.</summary>
    Panicked,
    /// <summary>The chip reset <see cref="ConsoleWatcher.RebootLoopCount"/> times within the window.</summary>
    RebootLoop,
    /// <summary>The user ended it (Ctrl-]).</summary>
    Stopped,
}

/// <summary>The end of a monitor session: how, and a sentence saying so (the panic line, the resets seen…).</summary>
public sealed record MonitorResult(MonitorOutcome Outcome, string Message);

/// <summary>
/// Decides when a console session is over, from the lines alone (no I/O, no clock: the caller passes the time since
/// the start): the first line matching <c>until</c>; a panic, once its report has been printed (the handler's
/// <c>Rebooting...</c>/<c>CPU halted.</c>, the next boot banner, or <see cref="PanicQuietTime"/> of silence, so the
/// backtrace is shown and decoded before the end); <see cref="RebootLoopCount"/> ROM boot banners within the reboot
/// window (the timeout when there is one, else <see cref="DefaultRebootWindow"/>), the first after wsctl's own reset
/// included; or the timeout.
/// </summary>
/// <remarks>One owner: not thread-safe.</remarks>
public sealed class ConsoleWatcher
{
    /// <summary>Boot banners within the window that make a reboot loop.</summary>
    public const int RebootLoopCount = 3;

    /// <summary>The reboot window without a timeout.</summary>
    public static readonly TimeSpan DefaultRebootWindow = TimeSpan.FromSeconds(60);

    /// <summary>A panic report is over when the device has said nothing more for this long.</summary>
    public static readonly TimeSpan PanicQuietTime = TimeSpan.FromSeconds(1);

    /// <summary>A panic report is cut off after this long, whatever still comes.</summary>
    public static readonly TimeSpan PanicReportLimit = TimeSpan.FromSeconds(10);

    private readonly Regex? _until;
    private readonly TimeSpan? _timeout;
    private readonly TimeSpan _rebootWindow;
    private readonly Queue<(TimeSpan At, string Reason)> _boots = new();
    private string? _panicLine;
    private TimeSpan _panicAt;
    private TimeSpan _lastLineAt;

    /// <param name="until">The pattern that ends the session successfully, or null.</param>
    /// <param name="timeout">The time limit, or null for none.</param>
    public ConsoleWatcher(Regex? until, TimeSpan? timeout)
    {
        _until = until;
        _timeout = timeout;
        _rebootWindow = timeout ?? DefaultRebootWindow;
    }

    /// <summary>Whether a panic report is being printed (the session ends when it is complete).</summary>
    public bool InPanicReport => _panicLine is not null;

    /// <summary>
    /// A complete line (escapes stripped) arrived at <paramref name="now"/>; returns the result when it ends the
    /// session.
    /// </summary>
    public MonitorResult? OnLine(string line, TimeSpan now)
    {
        _lastLineAt = now;
        if (_panicLine is not null)
        {
            if (CrashMarkers.IsPanicEnd(line) || CrashMarkers.IsBootBanner(line, out _))
                return Panicked();
            return null;
        }
        if (CrashMarkers.IsPanic(line))
        {
            _panicLine = line.Trim();
            _panicAt = now;
            return null;
        }
        if (CrashMarkers.IsBootBanner(line, out var reason))
        {
            _boots.Enqueue((now, reason));
            while (_boots.Count > 0 && now - _boots.Peek().At > _rebootWindow)
                _boots.Dequeue();
            if (_boots.Count >= RebootLoopCount)
            {
                var span = now - _boots.Peek().At;
                var reasons = string.Join(", ", _boots.Select(b => b.Reason).Distinct());
                return new MonitorResult(MonitorOutcome.RebootLoop,
                    $"the device keeps rebooting: {_boots.Count} resets within {Seconds(span)} ({reasons})");
            }
        }
        return Matches(line) ? new MonitorResult(MonitorOutcome.Matched, $"matched: {line.Trim()}") : null;
    }

    /// <summary>
    /// The line so far when the device paused in the middle of it (a prompt); returns the result when it matches
    /// <c>until</c>.
    /// </summary>
    public MonitorResult? OnPendingLine(string lineSoFar, TimeSpan now) =>
        _panicLine is null && Matches(lineSoFar)
            ? new MonitorResult(MonitorOutcome.Matched, $"matched: {lineSoFar.Trim()}")
            : null;

    /// <summary>
    /// Time passed with nothing (or something) received; returns the result when the session is over.
    /// </summary>
    public MonitorResult? OnTick(TimeSpan now)
    {
        if (_panicLine is not null)
            return now - _lastLineAt >= PanicQuietTime || now - _panicAt >= PanicReportLimit ? Panicked() : null;
        if (_timeout is { } limit && now >= limit)
            return new MonitorResult(MonitorOutcome.TimedOut, _until is null
                ? $"timeout after {Seconds(limit)}"
                : $"timeout: no line matched '{_until}' within {Seconds(limit)}");
        return null;
    }

    private MonitorResult Panicked() => new(MonitorOutcome.Panicked, $"the device panicked: {_panicLine}");

    private bool Matches(string line)
    {
        if (_until is null)
            return false;
        try
        {
            return _until.IsMatch(line);
        }
        catch (RegexMatchTimeoutException)
        {
            // A pattern that backtracks for ever on this line does not match it.
            return false;
        }
    }

    private static string Seconds(TimeSpan span) =>
        span.TotalSeconds.ToString(span.TotalSeconds < 10 ? "0.#" : "0", CultureInfo.InvariantCulture) + " s";
}

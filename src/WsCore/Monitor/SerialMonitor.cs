using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Serilog;
using WsCore.Esp;

namespace WsCore.Monitor;

/// <summary>What a <see cref="SerialMonitor"/> is told to do.</summary>
public sealed record MonitorOptions
{
    /// <summary>End (matched) at the first line matching this pattern; null waits for ever.</summary>
    public Regex? Until { get; init; }

    /// <summary>End (timed out) after this long; null waits for ever.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Decodes the code addresses of panic reports; null prints them as they are.</summary>
    public IAddressDecoder? Decoder { get; init; }

    /// <summary>
    /// Reset the chip into its app first (esptool's hard reset); ignored where DTR/RTS cannot be driven.
    /// </summary>
    public bool ResetIntoApp { get; init; } = true;

    /// <summary>How long the device must pause in the middle of a line before that part is shown (a prompt).</summary>
    public TimeSpan PendingLineDelay { get; init; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>Receives what a <see cref="SerialMonitor"/> reads. Called on the monitor's thread.</summary>
public interface IMonitorObserver
{
    /// <summary>A complete line, with the decoded code addresses it holds (empty for most lines).</summary>
    void OnLine(DateTimeOffset time, ConsoleLine line, IReadOnlyList<DecodedAddress> decoded);

    /// <summary>More of a line not ended yet, after the device paused (a prompt): shown as it is.</summary>
    void OnPendingText(string text);
}

/// <summary>
/// A serial console session: resets the chip into its app (unless told not to), reads the console line by line,
/// decodes crash addresses, sends what the user types, and ends as <see cref="ConsoleWatcher"/> decides or when
/// stopped. All transport I/O happens on the thread that calls <see cref="Run"/> (the transport has one owner);
/// <see cref="Send"/> and <see cref="Stop"/> may be called from any thread.
/// </summary>
public sealed class SerialMonitor
{
    /// <summary>How long one read waits: the latency of sending typed keys and of noticing the stop.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly ISerialTransport _transport;
    private readonly MonitorOptions _options;
    private readonly IMonitorObserver _observer;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<byte[]> _outgoing = new();
    private readonly ConsoleLineSplitter _splitter = new();
    private readonly CrashAddressExtractor _extractor = new();
    private readonly ConsoleWatcher _watcher;
    private volatile bool _stopRequested;
    private volatile bool _resetRequested;

    public SerialMonitor(
        ISerialTransport transport,
        MonitorOptions options,
        IMonitorObserver observer,
        ILogger? logger = null,
        TimeProvider? time = null)
    {
        _transport = transport;
        _options = options;
        _observer = observer;
        _logger = logger ?? Serilog.Core.Logger.None;
        _time = time ?? TimeProvider.System;
        _watcher = new ConsoleWatcher(options.Until, options.Timeout);
    }

    /// <summary>Queues bytes for the device (typed keys, stdin lines); written by the monitor's thread.</summary>
    public void Send(ReadOnlySpan<byte> data)
    {
        if (!data.IsEmpty)
            _outgoing.Enqueue(data.ToArray());
    }

    /// <summary>Ends the session (outcome <see cref="MonitorOutcome.Stopped"/>) within one poll interval.</summary>
    public void Stop() => _stopRequested = true;

    /// <summary>
    /// Resets the chip into its app (an EN pulse with IO0 released, as at the start) within one poll interval, as
    /// idf.py monitor's Ctrl-T Ctrl-R does. Returns false when the port has no DTR/RTS lines to do it with.
    /// </summary>
    public bool RequestReset()
    {
        if (!_transport.CanControlLines)
            return false;
        _resetRequested = true;
        return true;
    }

    /// <summary>Runs the session to its end.</summary>
    /// <exception cref="WsCoreException">Device, when the port or connection fails.</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="cancel"/> is cancelled.</exception>
    public MonitorResult Run(CancellationToken cancel = default)
    {
        if (_options.ResetIntoApp && _transport.CanControlLines)
            ResetIntoApp();
        else if (_options.ResetIntoApp)
        {
            _logger.Debug("{Port} has no DTR/RTS lines: not resetting", _transport.Name);
        }
        var start = _time.GetTimestamp();
        var buffer = new byte[4096];
        var lastDataAt = TimeSpan.Zero;
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            if (_stopRequested)
                return new MonitorResult(MonitorOutcome.Stopped, "stopped (Ctrl-])");
            if (_resetRequested)
            {
                _resetRequested = false;
                ResetIntoApp();
            }
            while (_outgoing.TryDequeue(out var bytes))
                _transport.Write(bytes);
            var count = _transport.Read(buffer, PollInterval);
            var now = _time.GetElapsedTime(start);
            if (count > 0)
            {
                lastDataAt = now;
                foreach (var line in _splitter.Push(buffer.AsSpan(0, count)))
                    if (OnLine(line, now) is { } ended)
                        return ended;
            }
            else if (_splitter.HasPending && now - lastDataAt >= _options.PendingLineDelay)
            {
                _observer.OnPendingText(_splitter.TakePendingText());
                if (_watcher.OnPendingLine(AnsiEscapes.Strip(_splitter.PendingLine), now) is { } matched)
                    return matched;
            }
            if (_watcher.OnTick(now) is { } over)
                return over;
        }
    }

    private void ResetIntoApp()
    {
        // IO0 high (DTR released) while EN is pulsed low by RTS: the chip boots the app, not the ROM loader.
        _logger.Debug("Resetting {Port} into the app (RTS pulse, DTR released)", _transport.Name);
        _transport.SetDtr(false);
        new HardReset().Reset(_transport);
    }

    private MonitorResult? OnLine(ConsoleLine line, TimeSpan now)
    {
        var plain = AnsiEscapes.Strip(line.Text);
        IReadOnlyList<DecodedAddress> decoded = [];
        if (_options.Decoder is { } decoder)
        {
            var candidates = _extractor.Extract(plain);
            if (candidates.Count > 0)
                decoded = candidates.Select(decoder.Decode).OfType<DecodedAddress>().ToList();
        }
        _observer.OnLine(_time.GetUtcNow(), line, decoded);
        return _watcher.OnLine(plain, now);
    }
}

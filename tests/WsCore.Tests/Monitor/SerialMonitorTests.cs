using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using WsCore.Esp;
using WsCore.Monitor;

namespace WsCore.Tests.Monitor;

/// <summary><see cref="SerialMonitor"/> over an in-memory transport: no port, no process.</summary>
public class SerialMonitorTests
{
    /// <summary>Hands out queued chunks one per read, records writes and modem-line changes.</summary>
    private sealed class MemoryTransport(bool canControlLines) : ISerialTransport
    {
        public ConcurrentQueue<byte[]> Incoming { get; } = new();
        public List<string> Lines { get; } = [];
        public MemoryStream Written { get; } = new();

        public string Name => "memory";
        public bool CanControlLines => canControlLines;

        public void Write(ReadOnlySpan<byte> data)
        {
            lock (Written)
                Written.Write(data);
        }

        public int Read(Span<byte> buffer, TimeSpan timeout)
        {
            if (!Incoming.TryDequeue(out var chunk))
            {
                Thread.Sleep(timeout);
                return 0;
            }
            chunk.CopyTo(buffer);
            return chunk.Length;
        }

        public void SetDtr(bool asserted) => Lines.Add($"DTR={(asserted ? 1 : 0)}");
        public void SetRts(bool asserted) => Lines.Add($"RTS={(asserted ? 1 : 0)}");
        public void SetBaudRate(int baud) { }
        public void DiscardInput() { }
        public void Dispose() { }
    }

    private sealed class Recorder : IMonitorObserver
    {
        public List<(ConsoleLine Line, IReadOnlyList<DecodedAddress> Decoded)> Lines { get; } = [];
        public StringBuilder Pending { get; } = new();

        public void OnLine(
            DateTimeOffset time, ConsoleLine line, IReadOnlyList<DecodedAddress> decoded) => Lines.Add((line, decoded));
        public void OnPendingText(string text) => Pending.Append(text);
    }

    /// <summary>Everything from 0x40000000 up is code, in a function named after its address's top digits.</summary>
    private sealed class FakeDecoder : IAddressDecoder
    {
        public DecodedAddress? Decode(ulong address) =>
            address >= 0x40000000
                ? new DecodedAddress(address, $"f_{address >> 12:x}", "main/main.c", (int)(address & 0xFF))
                : null;
    }

    private static void Queue(
        MemoryTransport transport, string text) => transport.Incoming.Enqueue(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task MenuReset_WhileRunning_PulsesEnAgain_AndCtrlTCtrlTSendsCtrlT()
    {
        var transport = new MemoryTransport(canControlLines: true);
        var monitor = new SerialMonitor(transport, new MonitorOptions { ResetIntoApp = false }, new Recorder());
        var notes = new List<string>();
        var timestamps = false;
        var menu = new Wsctl.Monitor.MenuActions(() => timestamps = !timestamps, notes.Add);
        var running = Task.Run(() => monitor.Run());
        static ConsoleKeyInfo Key(ConsoleKey key, char c, bool control = false) => new(c, key, false, false, control);

        Assert.Null(Wsctl.Monitor.ConsoleInput.RunMenuCommand(Key(ConsoleKey.R, 'r'), monitor, menu));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (transport.Lines.Count < 3 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal(["DTR=0", "RTS=1", "RTS=0"], transport.Lines);
        Assert.Equal("resetting the board into its app", notes[^1]);

        Assert.Null(Wsctl.Monitor.ConsoleInput.RunMenuCommand(Key(ConsoleKey.I, '\t', control: true), monitor, menu));
        Assert.True(timestamps);
        Assert.Equal([0x14], Wsctl.Monitor.ConsoleInput.RunMenuCommand(Key(ConsoleKey.T, '\x14', control: true),
            monitor, menu));
        Wsctl.Monitor.ConsoleInput.RunMenuCommand(Key(ConsoleKey.H, 'h'), monitor, menu);
        Assert.Contains("R reset", notes[^1], StringComparison.Ordinal);
        Wsctl.Monitor.ConsoleInput.RunMenuCommand(Key(ConsoleKey.X, 'x'), monitor, menu);
        Assert.Equal(MonitorOutcome.Stopped, (await running.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
    }

    [Fact]
    public void MenuReset_PortWithoutModemLines_SaysSo()
    {
        var monitor = new SerialMonitor(new MemoryTransport(canControlLines: false), new MonitorOptions(),
            new Recorder());
        var notes = new List<string>();
        Wsctl.Monitor.ConsoleInput.RunMenuCommand(new ConsoleKeyInfo('r', ConsoleKey.R, false, false, false), monitor,
            new Wsctl.Monitor.MenuActions(() => false, notes.Add));
        Assert.Contains("no DTR/RTS lines", notes.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ResetsIntoTheApp_RtsPulseWithDtrReleased()
    {
        var transport = new MemoryTransport(canControlLines: true);
        Queue(transport, "ready\r\n");
        var result = new SerialMonitor(
            transport, new MonitorOptions { Until = new Regex("ready") }, new Recorder()).Run();
        Assert.Equal(MonitorOutcome.Matched, result.Outcome);
        // IO0 (DTR) never asserted: EN pulsed low by RTS boots the app, not the ROM loader.
        Assert.Equal(["DTR=0", "RTS=1", "RTS=0"], transport.Lines);
    }

    [Fact]
    public void Run_NoReset_LinesUntouched()
    {
        var transport = new MemoryTransport(canControlLines: true);
        Queue(transport, "ready\r\n");
        new SerialMonitor(
            transport, new MonitorOptions { Until = new Regex("ready"), ResetIntoApp = false }, new Recorder()).Run();
        Assert.Empty(transport.Lines);
    }

    [Fact]
    public void Run_PanicSplitAcrossReads_DecodedAddressesWithTheirLine_EndsPanicked()
    {
        var transport = new MemoryTransport(canControlLines: false);
        var sample = PanicSamples.XtensaLoadProhibited;
        for (var i = 0; i < sample.Length; i += 37)
            Queue(transport, sample.Substring(i, Math.Min(37, sample.Length - i)));
        var recorder = new Recorder();
        var result = new SerialMonitor(transport, new MonitorOptions { Decoder = new FakeDecoder() }, recorder).Run();
        Assert.Equal(MonitorOutcome.Panicked, result.Outcome);
        var backtrace = recorder.Lines.Single(l => l.Line.Text.StartsWith("Backtrace:", StringComparison.Ordinal));
        Assert.Equal([0x400d6e2aUL, 0x400d6e69, 0x400e4f6f, 0x40087c1d], backtrace.Decoded.Select(d => d.Address));
        Assert.Equal("Rebooting...", recorder.Lines[^1].Line.Text);
    }

    [Fact]
    public async Task Send_FromAnotherThread_WrittenByTheMonitor_StopEndsIt()
    {
        var transport = new MemoryTransport(canControlLines: false);
        var monitor = new SerialMonitor(transport, new MonitorOptions(), new Recorder());
        var run = Task.Run(() => monitor.Run());
        monitor.Send("help\r\n"u8);
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < end && !run.IsCompleted)
        {
            lock (transport.Written)
                if (transport.Written.Length >= 6)
                    monitor.Stop();
            await Task.Delay(10);
        }
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(MonitorOutcome.Stopped, result.Outcome);
        Assert.Equal("help\r\n", Encoding.UTF8.GetString(transport.Written.ToArray()));
    }

    [Fact]
    public void Run_PromptWithoutLineEnd_ShownAfterThePause_MatchedByUntil()
    {
        var transport = new MemoryTransport(canControlLines: false);
        Queue(transport, "\u001b[0;32mI (5) app: up\u001b[0m\r\nesp32> ");
        var recorder = new Recorder();
        var result = new SerialMonitor(
            transport, new MonitorOptions { Until = new Regex("^esp32> $") }, recorder).Run();
        Assert.Equal(MonitorOutcome.Matched, result.Outcome);
        Assert.Equal("esp32> ", recorder.Pending.ToString());
    }

    [Fact]
    public void Run_Cancelled_Throws()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var monitor = new SerialMonitor(new MemoryTransport(false), new MonitorOptions(), new Recorder());
        Assert.ThrowsAny<OperationCanceledException>(() => monitor.Run(cancel.Token));
    }
}

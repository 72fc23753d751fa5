using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using WsCore.Tests.Probe;
using WsCore.Tests.Support;

namespace WsCore.Tests.Ota;

/// <summary>
/// The firmware's host build as a device that takes updates: <c>ws_server_host --ota-dir DIR --ota-key FILE</c>
/// (docs/ota-protocol.md, "The host build") on one loopback port, started again with the same arguments and port
/// whenever it restarts (exit status 3) or panics (SIGABRT), as the chip resets and its bootloader picks a slot.
/// </summary>
/// <remarks>
/// Each run's stderr is kept: its <c>ota: running VERSION (PROJECT) from SLOT, state STATE, …</c> line is what the
/// "bootloader" chose, read from the program rather than guessed. <see cref="PowerCycleAsync"/> is a power cut: the
/// program killed and started again, so what boots is decided from the files alone.
/// </remarks>
public sealed partial class OtaHostDevice : IAsyncDisposable
{
    /// <summary>ws_server_host's exit status for <c>esp_restart()</c>.</summary>
    public const int Restart = 3;

    /// <summary>How .NET reports a child ended by SIGABRT (128 + 6): the "+panic-at-start" image's abort.</summary>
    public const int Panic = 134;

    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(30);
    private readonly string _binary;
    private readonly string[] _arguments;
    private readonly bool _restarts;
    private readonly List<Run> _runs = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _supervisor = Task.CompletedTask;
    private TaskCompletionSource _listening = NewSignal();
    private Process? _process;
    private volatile bool _killedOnPurpose;

    private OtaHostDevice(string binary, string directory, string[] arguments, bool restarts)
    {
        _binary = binary;
        Directory = directory;
        _arguments = arguments;
        _restarts = restarts;
    }

    /// <summary>The device's loopback port, the same across restarts.</summary>
    public int Port { get; private set; }

    /// <summary>The device's OTA directory (slots, otadata, the outcome record).</summary>
    public string Directory { get; }

    /// <summary>wsctl's name for the device.</summary>
    public string Target => $"127.0.0.1:{Port}";

    /// <summary>How many times the program has been started.</summary>
    public int Runs
    {
        get
        {
            lock (_runs)
                return _runs.Count;
        }
    }

    /// <summary>The exit statuses of the runs that ended, in order.</summary>
    public IReadOnlyList<int> Exits
    {
        get
        {
            lock (_runs)
                return [.. _runs.Where(r => r.Exit is not null).Select(r => r.Exit!.Value)];
        }
    }

    /// <summary>Every run's stderr, for a failing assertion's message.</summary>
    public string Log
    {
        get
        {
            lock (_runs)
                return string.Join("\n", _runs.Select((r, i) => $"--- run {i + 1} (exit {r.Exit?.ToString(
                    CultureInfo.InvariantCulture) ?? "-"}):\n{r.Stderr}"));
        }
    }

    /// <summary>
    /// Starts a device whose slot ota_0 holds <paramref name="running"/>, with the key of <paramref name="keyFile"/>
    /// (none: /ota answers 403) and its own confirmation deadline <paramref name="confirmTimeout"/>; returns once it
    /// listens. <paramref name="restarts"/> false: a device that stays down after it restarts (its power lost).
    /// </summary>
    public static async Task<OtaHostDevice> StartAsync(byte[] running, string? keyFile,
        string confirmTimeout = "60s", bool restarts = true, params string[] extra)
    {
        var binary = await FirmwareHost.BuildAsync();
        var directory = System.IO.Directory.CreateTempSubdirectory("wsctl-ota-host-").FullName;
        await File.WriteAllBytesAsync(Path.Combine(directory, "ota_0.bin"), running);
        string[] arguments =
        [
            "--counter-interval-ms", "0", "--ota-dir", directory, "--ota-confirm-timeout", confirmTimeout,
            .. keyFile is null ? Array.Empty<string>() : ["--ota-key", keyFile], .. extra,
        ];
        var device = new OtaHostDevice(binary, directory, arguments, restarts);
        device._supervisor = device.SuperviseAsync(0);
        await device.WaitListeningAsync();
        return device;
    }

    /// <summary>
    /// The "ota: running VERSION (PROJECT) from SLOT, state STATE" of the latest run that got that far:
    /// (version, slot, state), or null before any.
    /// </summary>
    public (string Version, string Slot, string State)? Running
    {
        get
        {
            lock (_runs)
            {
                for (var i = _runs.Count - 1; i >= 0; i--)
                    if (RunningLine().Match(_runs[i].Stderr) is { Success: true } m)
                        return (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value);
            }
            return null;
        }
    }

    /// <summary>Waits until a run of the program listens (the latest start, or the next one after a restart).</summary>
    public Task WaitListeningAsync() => _listening.Task.WaitAsync(StartLimit);

    /// <summary>
    /// Waits until the program has been started <paramref name="runs"/> times in all and that run listens.
    /// </summary>
    public async Task WaitForRunAsync(int runs, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var listening = _listening.Task;
            if (Runs >= runs && listening.IsCompleted)
                return;
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"the device did not listen in run {runs} within {timeout}:\n{Log}");
            // A new run replaces the signal: wake up on whichever comes first, the listening or a later check.
            await Task.WhenAny(listening, Task.Delay(TimeSpan.FromMilliseconds(50)));
        }
    }

    /// <summary>
    /// A power cut: kills the program (no restart of its own) and starts it again; returns once it listens.
    /// </summary>
    public async Task PowerCycleAsync()
    {
        var before = Runs;
        _stop.Token.ThrowIfCancellationRequested();
        var process = _process;
        var supervisor = _supervisor;
        _killedOnPurpose = true;
        if (process is not null)
            ChildProcessKill(process);
        await supervisor;
        _killedOnPurpose = false;
        _listening = NewSignal();
        _supervisor = SuperviseAsync(Port);
        await WaitForRunAsync(before + 1, StartLimit);
    }

    /// <summary>Waits until the program has ended and will not be started again (a device left down).</summary>
    public Task WaitDownAsync(TimeSpan timeout) => _supervisor.WaitAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_process is { } process)
            ChildProcessKill(process);
        try
        {
            await _supervisor.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
        _stop.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// The "power supply": starts the program on <paramref name="port"/> (0: any, the first time), and again on
    /// the port it took after each restart or panic, until it ends otherwise, is killed on purpose or disposed.
    /// </summary>
    private async Task SuperviseAsync(int port)
    {
        while (!_stop.IsCancellationRequested)
        {
            var run = new Run();
            var info = new ProcessStartInfo(_binary)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var a in (string[])["--port", port.ToString(CultureInfo.InvariantCulture), .. _arguments])
                info.ArgumentList.Add(a);
            var listening = _listening;
            lock (_runs)
                _runs.Add(run);
            using var process = new Process { StartInfo = info };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null)
                    return;
                lock (_runs)
                    run.Stderr += e.Data + "\n";
                if (ListeningLine().Match(e.Data) is { Success: true } m)
                {
                    Port = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                    listening.TrySetResult();
                }
            };
            process.OutputDataReceived += (_, _) => { };
            process.Start();
            _process = process;
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            await process.WaitForExitAsync(CancellationToken.None);
            process.WaitForExit(); // the last stderr lines are in
            lock (_runs)
                run.Exit = process.ExitCode;
            _process = null;
            if (!listening.Task.IsCompleted && port == 0)
            {
                listening.TrySetException(new InvalidOperationException(
                    $"ws_server_host ended ({process.ExitCode}) before it listened:\n{run.Stderr}"));
                return;
            }
            if (_killedOnPurpose || !_restarts || process.ExitCode is not (Restart or Panic))
                return;
            // The next run's signal: a waiter sees the restart as "not listening" until that run listens.
            if (listening.Task.IsCompleted)
                _listening = NewSignal();
            port = Port;
        }
    }

    private static void ChildProcessKill(Process process)
    {
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Run
    {
        public string Stderr { get; set; } = "";
        public int? Exit { get; set; }
    }

    [GeneratedRegex(@"listening on port (\d+)")]
    private static partial Regex ListeningLine();

    [GeneratedRegex(@"ota: running (\S+) \(\S+\) from (ota_\d), state (\w+)")]
    private static partial Regex RunningLine();
}

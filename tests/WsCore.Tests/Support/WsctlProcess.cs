using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using WsCore.Control;
using Wsctl.Cli;

namespace WsCore.Tests.Support;

/// <summary>
/// The real <c>wsctl</c> as a child process: <c>dotnet wsctl.dll ARGS</c> from the test output directory (the test
/// project references wsctl, so the dll is there), with stdin, stdout and stderr redirected and collected. Waits use
/// timeouts, never sleeps; the process is always killed on dispose.
/// </summary>
public sealed partial class WsctlProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _stdoutLines = [];

    // serve's runtime directory (XDG_RUNTIME_DIR as it was given to it), for removing the control socket of a serve
    // killed on dispose; null for other verbs.
    private readonly string? _serveRuntimeDirectory;

    private WsctlProcess(Process process, string? serveRuntimeDirectory)
    {
        _process = process;
        _serveRuntimeDirectory = serveRuntimeDirectory;
    }

    /// <summary>Path of wsctl.dll next to the test assembly.</summary>
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "wsctl.dll");

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public StreamWriter StandardInput => _process.StandardInput;

    public string Stdout
    {
        get
        {
            lock (_stdout)
                return _stdout.ToString();
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_stdout)
                return [.. _stdoutLines];
        }
    }

    /// <summary>Starts <c>dotnet wsctl.dll</c> with <paramref name="args"/>.</summary>
    public static WsctlProcess Start(params string[] args) => Start(args, null);

    /// <summary>
    /// Starts <c>dotnet wsctl.dll</c> with <paramref name="args"/> and the given environment variables. A
    /// <c>WSCTL_WIFI_PASS</c> of the test run's own environment is never passed on: a test names its secrets.
    /// </summary>
    public static WsctlProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(DllPath);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("WSCTL_WIFI_PASS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        // ArgumentList[0] is wsctl.dll, [1] the verb. An empty directory stands for "not set" (serve's /tmp one).
        var serve = info.ArgumentList.Count > 1 && info.ArgumentList[1] == "serve";
        var runtimeDirectory = info.Environment.TryGetValue("XDG_RUNTIME_DIR", out var set) ? set ?? "" : "";
        var wsctl = new WsctlProcess(process, serve ? runtimeDirectory : null);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (wsctl._stdout)
            {
                wsctl._stdout.AppendLine(e.Data);
                wsctl._stdoutLines.Add(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (wsctl._stderr)
                wsctl._stderr.AppendLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wsctl;
    }

    /// <summary>
    /// Runs <c>wsctl ARGS</c> to its end: writes <paramref name="stdin"/> (if any), closes stdin, waits up to
    /// <paramref name="timeout"/> (2 minutes by default; TimeoutException past it, the process killed).
    /// </summary>
    public static async Task<WsctlResult> RunAsync(IEnumerable<string> args, string? stdin = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Start(args, environment);
        if (stdin is not null)
            await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var exit = await process.WaitForExitAsync(timeout ?? TimeSpan.FromMinutes(2));
        return new WsctlResult(exit, process.Stdout, process.Stderr);
    }

    /// <summary>
    /// Starts <c>wsctl serve --port 0 ARGS</c> and waits for its startup log line; returns it and the port.
    /// </summary>
    public static Task<(
        WsctlProcess Process, int Port)> StartServeAsync(params string[] args) => StartServeOnPortAsync(0, args);

    /// <summary>
    /// Starts <c>wsctl serve --port PORT ARGS</c> and waits for its startup log line; returns it and the bound port
    /// (e.g. to restart a serve on the port it had).
    /// </summary>
    public static Task<(WsctlProcess Process, int Port)> StartServeOnPortAsync(int port, params string[] args) =>
        StartServeAsync(null, port, args);

    /// <summary>
    /// Starts <c>wsctl serve --port PORT ARGS</c> with the given environment variables and waits for its startup log
    /// line; returns it and the bound port.
    /// </summary>
    public static async Task<(WsctlProcess Process, int Port)> StartServeAsync(
        IDictionary<string, string>? environment, int port, params string[] args)
    {
        var process = Start(["serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. args], environment);
        try
        {
            var line = await process.WaitForStderrAsync(ListeningPattern(), TimeSpan.FromSeconds(30));
            return (
                process,
                int.Parse(
                    ListeningPattern().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>Waits until stdout has a line matching <paramref name="match"/>; returns it.</summary>
    public Task<string> WaitForStdoutAsync(Func<string, bool> match, TimeSpan timeout) =>
        WaitAsync(() => StdoutLines.FirstOrDefault(match), timeout, "stdout");

    /// <summary>Waits until stderr has a line matching <paramref name="pattern"/>; returns it.</summary>
    public Task<string> WaitForStderrAsync(Regex pattern, TimeSpan timeout) =>
        WaitAsync(() => Stderr.Split('\n').FirstOrDefault(pattern.IsMatch), timeout, "stderr");

    /// <summary>Sends a POSIX signal (e.g. "INT", "TERM") with kill(1).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start(
            "kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>
    /// Waits until one of the process's threads is blocked reading its stdin (read(2) on descriptor 0 or a duplicate
    /// of it, as the runtime's console reads: /proc/PID/task/TID/syscall gives the call's number, then its
    /// arguments), so that a test signals it there and not before; throws TimeoutException when none gets there.
    /// </summary>
    public async Task WaitUntilReadingStdinAsync(TimeSpan timeout)
    {
        var read = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture
            == System.Runtime.InteropServices.Architecture.Arm64 ? "63" : "0";
        var stdin = new FileInfo($"/proc/{Id}/fd/0").LinkTarget;
        using var cts = new CancellationTokenSource(timeout);
        while (!Directory.EnumerateDirectories($"/proc/{Id}/task").Any(task => ReadsFrom(task, read, stdin)))
        {
            try
            {
                await Task.Delay(20, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"wsctl not reading stdin after {timeout}; stderr:\n{Stderr}");
            }
        }
    }

    // Whether the thread at task is in read(2) on a descriptor that is the file `target` (e.g. pipe:[1234]).
    private bool ReadsFrom(string task, string read, string? target)
    {
        try
        {
            var call = File.ReadAllText(Path.Combine(task, "syscall")).Split(' ');
            return call.Length > 1 && call[0] == read
                && new FileInfo($"/proc/{Id}/fd/{Convert.ToInt32(call[1], 16)}").LinkTarget == target;
        }
        catch (IOException)
        {
            return false; // the thread ended meanwhile, or the descriptor was closed
        }
    }

    /// <summary>Waits for the exit and returns the exit code; throws TimeoutException when it keeps running.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"wsctl still running after {timeout}; stderr:\n{Stderr}");
        }
        return _process.ExitCode;
    }

    /// <summary>
    /// Kills the process if it still runs (SIGKILL). A serve killed so cannot remove its control socket: the socket
    /// is removed here, as serve would have, so test runs leave none behind. One that exited by itself is left as it
    /// left things, for a test to see.
    /// </summary>
    public void Dispose()
    {
        var killed = !HasExitedSafely();
        ChildProcess.KillAndDispose(_process, entireTree: true);
        if (killed && _serveRuntimeDirectory is { } runtimeDirectory && ListeningPort() is { } port)
            File.Delete(ControlSocketPath.For(port, runtimeDirectory));
    }

    private bool HasExitedSafely()
    {
        try
        {
            return _process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>The port serve said it listens on, once it said so.</summary>
    private int? ListeningPort() =>
        Stderr.Split('\n').Select(l => ListeningPattern().Match(l)).FirstOrDefault(m => m.Success) is { } match
            ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    private async Task<string> WaitAsync(Func<string?> probe, TimeSpan timeout, string where)
    {
        var end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end)
        {
            if (probe() is { } found)
                return found;
            if (_process.HasExited)
            {
                await Task.Delay(100);
                return probe()
                    ?? throw new InvalidOperationException($"wsctl exited ({_process.ExitCode}) before the expected " +
                        $"{where} line; stderr:\n{Stderr}");
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"no expected {where} line within {timeout}; stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    [GeneratedRegex(@"listening on .*?:(\d+)/")]
    private static partial Regex ListeningPattern();
}

/// <summary>How a finished <c>wsctl</c> run ended, and what it printed.</summary>
public sealed record WsctlResult(int ExitCode, string Stdout, string Stderr)
{
    public string All => Stdout + Stderr;
}

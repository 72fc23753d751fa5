using System.Diagnostics;
using System.Globalization;

namespace WsCore.Tests.Examples;

/// <summary>
/// A command line run by <c>bash -c</c>, as a user's shell runs it (pipes, redirections and <c>&amp;</c> as
/// written), in a working directory and an environment of the test's, optionally inside a network namespace of the
/// test's (<c>ip netns exec</c>). stdout and stderr are collected by line. Waits use deadlines, never sleeps; the
/// process and everything it started are killed on dispose.
/// </summary>
public sealed class ShellProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ShellProcess(Process process, string description)
    {
        _process = process;
        Description = description;
    }

    public string Description { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once it has exited, else null.</summary>
    public int? ExitCodeOrNull => _process.HasExited ? _process.ExitCode : null;

    public StreamWriter StandardInput => _process.StandardInput;

    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_stdout)
                return [.. _stdout];
        }
    }

    public IReadOnlyList<string> StderrLines
    {
        get
        {
            lock (_stderr)
                return [.. _stderr];
        }
    }

    public string Stdout => string.Join('\n', StdoutLines);

    public string Stderr => string.Join('\n', StderrLines);

    /// <summary>What it printed, for a failing assertion's message.</summary>
    public string All => $"{Description}\n--- stdout:\n{Stdout}\n--- stderr:\n{Stderr}";

    /// <summary>
    /// Starts <c>bash -c <paramref name="command"/></c> (inside <paramref name="netns"/> when given). stdin is a pipe,
    /// closed at once unless <paramref name="keepStdinOpen"/>.
    /// </summary>
    public static ShellProcess Start(string command, string workingDirectory, IDictionary<string, string> environment,
        string? netns = null, bool keepStdinOpen = false)
    {
        var info = new ProcessStartInfo(netns is null ? "bash" : "ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in netns is null ? ["-c", command] : (string[])["netns", "exec", netns, "bash", "-c", command])
            info.ArgumentList.Add(arg);
        info.Environment.Remove("WSCTL_WIFI_PASS");
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var shell = new ShellProcess(process, netns is null ? $"$ {command}" : $"[{netns}] $ {command}");
        process.OutputDataReceived += (_, e) => shell.OnLine(shell._stdout, shell._stdoutClosed, e.Data);
        process.ErrorDataReceived += (_, e) => shell.OnLine(shell._stderr, shell._stderrClosed, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!keepStdinOpen)
            process.StandardInput.Close();
        return shell;
    }

    private void OnLine(List<string> lines, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (lines)
            lines.Add(line);
    }

    /// <summary>Waits for a stdout line matching <paramref name="match"/>, from <paramref name="from"/> on.</summary>
    public Task<string> WaitForStdoutAsync(Func<string, bool> match, TimeSpan timeout, int from = 0) =>
        WaitAsync(() => StdoutLines.Skip(from).FirstOrDefault(match), timeout, "stdout");

    /// <summary>Waits for a stderr line matching <paramref name="match"/>.</summary>
    public Task<string> WaitForStderrAsync(Func<string, bool> match, TimeSpan timeout) =>
        WaitAsync(() => StderrLines.FirstOrDefault(match), timeout, "stderr");

    /// <summary>Waits for the exit (and the last of its output); TimeoutException with the output past it.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"still running after {timeout.TotalSeconds} s: {All}");
        }
        return _process.ExitCode;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (kill(1)'s name: INT, TERM) to the process and every process under it: what
    /// Ctrl-C at a terminal does to the job in the foreground.
    /// </summary>
    public void Signal(string signal) => SignalTree(_process.Id, signal);

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/> and its descendants.</summary>
    public static void SignalTree(int pid, string signal)
    {
        var pids = Descendants(pid).Prepend(pid).Select(p => p.ToString(CultureInfo.InvariantCulture)).ToList();
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, .. pids])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        kill.WaitForExit();
    }

    /// <summary>The processes under <paramref name="pid"/> (children, their children…), from /proc.</summary>
    public static IReadOnlyList<int> Descendants(int pid)
    {
        var parents = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var child))
                continue;
            try
            {
                // /proc/PID/stat: "PID (COMM) STATE PPID …", COMM may hold blanks and parentheses.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!parents.TryGetValue(parent, out var children))
                    parents[parent] = children = [];
                children.Add(child);
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }
        var found = new List<int>();
        var next = new Queue<int>([pid]);
        while (next.TryDequeue(out var current))
        {
            foreach (var child in parents.GetValueOrDefault(current) ?? [])
            {
                found.Add(child);
                next.Enqueue(child);
            }
        }
        return found;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                // SIGKILL the whole tree: what it started (a serve with '&', a pipe's other end) goes too.
                SignalTree(_process.Id, "KILL");
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private async Task<string> WaitAsync(Func<string?> probe, TimeSpan timeout, string where)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (probe() is { } found)
                return found;
            if (_process.HasExited)
            {
                await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(2000));
                return probe()
                    ?? throw new InvalidOperationException(
                        $"exited ({_process.ExitCode}) before the expected {where} line: {All}");
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"no expected {where} line within {timeout.TotalSeconds} s: {All}");
    }
}

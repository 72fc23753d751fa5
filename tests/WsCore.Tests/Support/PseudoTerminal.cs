using System.Diagnostics;
using Wsctl.Cli;

namespace WsCore.Tests.Support;

/// <summary>
/// Runs wsctl on a pseudo-terminal through script(1), as a person at a terminal runs it: stdout and stderr both
/// reach the one screen (the process's stdout here), and what the test writes to stdin arrives as typed keys.
/// </summary>
public static class PseudoTerminal
{
    /// <summary>
    /// Starts <c>dotnet wsctl.dll ARGS</c> under <c>script -qec</c>; the caller waits for it and kills it.
    /// </summary>
    /// <param name="wsctlArguments">The arguments as one shell-quoted string.</param>
    public static Process StartWsctl(string wsctlArguments)
    {
        var command = $"dotnet '{WsctlProcess.DllPath}' {wsctlArguments}";
        var info = new ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_NOLOGO"] = "1";
        return Process.Start(info)!;
    }

    /// <summary>
    /// Starts <paramref name="command"/> (a shell command line) under <c>script -qec</c>, in
    /// <paramref name="workingDirectory"/> with <paramref name="environment"/> added; the caller waits and kills.
    /// </summary>
    public static Process StartShell(
        string command, IDictionary<string, string> environment, string workingDirectory)
    {
        var info = new ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        return Process.Start(info)!;
    }
}

/// <summary>
/// wsctl on a pseudo-terminal (<see cref="PseudoTerminal"/>) with its screen collected as it is drawn: type keys,
/// wait for text on the screen, wait for the exit. Disposing kills it if it is still running.
/// </summary>
public sealed class TerminalSession : IDisposable
{
    private readonly Process _terminal;
    private readonly System.Text.StringBuilder _screen = new();
    private readonly Task _reading;

    public TerminalSession(string wsctlArguments)
        : this(PseudoTerminal.StartWsctl(wsctlArguments))
    {
    }

    private TerminalSession(Process terminal)
    {
        _terminal = terminal;
        _reading = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await _terminal.StandardOutput.ReadAsync(buffer)) > 0)
                lock (_screen)
                    _screen.Append(buffer, 0, n);
        });
    }

    /// <summary>A shell command line on a pseudo-terminal (see <see cref="PseudoTerminal.StartShell"/>).</summary>
    public static TerminalSession Shell(
        string command, IDictionary<string, string> environment, string workingDirectory) =>
        new(PseudoTerminal.StartShell(command, environment, workingDirectory));

    /// <summary>Everything drawn so far, escape sequences included.</summary>
    public string Screen
    {
        get
        {
            lock (_screen)
                return _screen.ToString();
        }
    }

    public int ExitCode => _terminal.ExitCode;

    /// <summary>Types <paramref name="keys"/> (Enter is "\r", as a terminal sends it).</summary>
    public async Task TypeAsync(string keys)
    {
        await _terminal.StandardInput.WriteAsync(keys);
        await _terminal.StandardInput.FlushAsync();
    }

    /// <summary>Waits for <paramref name="text"/> on the screen; else TimeoutException, with the screen.</summary>
    public async Task WaitForAsync(string text, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            while (!Screen.Contains(text, StringComparison.Ordinal))
                await Task.Delay(20, limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"'{text}' not on the screen within {timeout}; screen:\n{Screen}");
        }
    }

    /// <summary>Waits for the exit and for the last of the screen; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _terminal.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"still running after {timeout}; screen:\n{Screen}");
        }
        await _reading.WaitAsync(timeout);
        return _terminal.ExitCode;
    }

    public void Dispose()
    {
        if (!_terminal.HasExited)
            _terminal.Kill(entireProcessTree: true);
        _terminal.Dispose();
    }
}

using System.Diagnostics;

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
}

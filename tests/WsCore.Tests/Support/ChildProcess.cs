using System.Diagnostics;

namespace WsCore.Tests.Support;

/// <summary>
/// How the tests end a child process they started: one place for the kill, the bounded wait and the race.
/// </summary>
public static class ChildProcess
{
    /// <summary>
    /// Kills <paramref name="process"/> if it still runs (with its children when <paramref name="entireTree"/>),
    /// waits up to 5 s for it, and disposes it. A process that exits between the check and the kill is fine.
    /// </summary>
    public static void KillAndDispose(Process process, bool entireTree = false)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireTree);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }
}

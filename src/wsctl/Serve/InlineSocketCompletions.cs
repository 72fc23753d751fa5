namespace Wsctl.Serve;

/// <summary>
/// On Linux, .NET hands every socket completion from its epoll thread to the thread pool, so each received message
/// costs a thread switch before our code sees it, and another wake-up later. serve's socket continuations never
/// block (they decode, queue and send without waiting; printing runs on its own loop behind the event queue), which
/// is the condition under which the runtime's switch <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> is safe:
/// continuations then run on the epoll threads (one per CPU), as in node or the firmware's select loop; its effect on
/// serve's CPU per message is measured in bench/RESULTS.md. The runtime reads this switch from the environment only
/// (no runtimeconfig property exists for it), so serve sets it for itself before its first socket operation.
/// </summary>
internal static class InlineSocketCompletions
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns the switch on for this process unless the user set it (<c>=0</c> keeps the thread-pool dispatch). Must
    /// run before the first asynchronous socket operation: the runtime reads the variable once, when its socket
    /// engine starts.
    /// </summary>
    public static void PreferUnlessConfigured()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
            Environment.SetEnvironmentVariable(Variable, "1");
    }
}

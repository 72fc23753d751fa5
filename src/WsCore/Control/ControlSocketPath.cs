using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Serilog;

namespace WsCore.Control;

/// <summary>
/// Where the control socket of a <c>wsctl serve</c> on port P lives: <c>$XDG_RUNTIME_DIR/wsctl/serve-P.sock</c>, or
/// <c>/tmp/wsctl-UID/serve-P.sock</c> where XDG_RUNTIME_DIR is not set. Either directory is the user's own (0700), so
/// only the user who runs serve can reach the socket. A port is a port of one network namespace, and a serve in
/// another namespace is another server: its socket is <c>serve-P.netN.sock</c>, N being the inode of its namespace
/// (<c>/proc/self/ns/net</c>), so <c>wsctl broadcast</c> reaches the serve of its own namespace. The plain name is
/// kept where the namespace is provably the system's (PID 1's); where PID 1's cannot be read (a container, another
/// user's PID 1), the namespace is named, since nothing proves two processes there share one.
/// </summary>
[UnsupportedOSPlatform("windows")]
public static class ControlSocketPath
{
    public static string For(int port, string? runtimeDirectory = null, string? networkNamespace = null)
    {
        runtimeDirectory ??= Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        var directory = !string.IsNullOrEmpty(runtimeDirectory)
            ? Path.Combine(runtimeDirectory, "wsctl")
            : Path.Combine(Path.GetTempPath(), $"wsctl-{EffectiveUserId()}");
        networkNamespace ??= OwnNetworkNamespace();
        return Path.Combine(
            directory, networkNamespace is null ? $"serve-{port}.sock" : $"serve-{port}.net{networkNamespace}.sock");
    }

    /// <summary>
    /// The inode of this process's network namespace, unless it is provably the system's (PID 1's, read from /proc):
    /// null there and off Linux (no /proc/self/ns/net), for the plain name.
    /// </summary>
    public static string? OwnNetworkNamespace() =>
        NamespaceToName(NetworkNamespaceOf("self"), NetworkNamespaceOf("1"));

    /// <summary>
    /// Which namespace the socket's name carries: this process's, unless it is the system's. A system namespace that
    /// cannot be read proves nothing, so this process's is named then too.
    /// </summary>
    internal static string? NamespaceToName(string? own, string? system) => own == system ? null : own;

    /// <summary>The inode of a process's network namespace ("net:[4026531840]" → "4026531840"), or null.</summary>
    internal static string? NetworkNamespaceOf(string process)
    {
        try
        {
            var link = new FileInfo($"/proc/{process}/ns/net").LinkTarget;
            return link is ['n', 'e', 't', ':', '[', .. var inode, ']'] && inode.All(char.IsAsciiDigit) ? inode : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint EffectiveUserId();
}

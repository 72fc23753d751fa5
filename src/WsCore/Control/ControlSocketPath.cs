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
/// only the user who runs serve can reach the socket.
/// </summary>
/// <remarks>
/// A port is a port of one network namespace, and a serve in another namespace on the same port is another server.
/// Which namespace a socket's server is in is proved, not guessed: the kernel gives the peer's process of a connected
/// Unix socket (SO_PEERCRED, unix(7)), and <c>/proc/PID/ns/net</c> names its namespace. The first serve on a port
/// takes the plain name; a serve that finds it held by a server of another namespace takes
/// <c>serve-P.netN.sock</c>, N being the inode of its own namespace; a client takes its own namespace's socket when
/// there is one, and the plain one only when its server is in the client's namespace.
/// </remarks>
[UnsupportedOSPlatform("windows")]
public static class ControlSocketPath
{
    /// <summary>The plain path for port <paramref name="port"/>: <c>serve-P.sock</c> in the user's directory.</summary>
    public static string For(int port, string? runtimeDirectory = null) =>
        Path.Combine(DirectoryFor(runtimeDirectory), $"serve-{port}.sock");

    /// <summary>The path of a serve on <paramref name="port"/> in network namespace <paramref name="inode"/>.</summary>
    public static string ForNamespace(int port, string inode, string? runtimeDirectory = null) =>
        Path.Combine(DirectoryFor(runtimeDirectory), $"serve-{port}.net{inode}.sock");

    /// <summary>The user's own directory of control sockets.</summary>
    public static string DirectoryFor(string? runtimeDirectory = null)
    {
        runtimeDirectory ??= Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return !string.IsNullOrEmpty(runtimeDirectory)
            ? Path.Combine(runtimeDirectory, "wsctl")
            : Path.Combine(Path.GetTempPath(), $"wsctl-{EffectiveUserId()}");
    }

    /// <summary>The inode of this process's network namespace, or null off Linux (no /proc/self/ns/net).</summary>
    public static string? OwnNetworkNamespace() => NetworkNamespaceOf("self");

    /// <summary>
    /// The network namespace of the process at the other end of a connected Unix socket (SO_PEERCRED gives its pid),
    /// or null when the kernel or /proc does not say.
    /// </summary>
    public static string? PeerNetworkNamespace(Socket socket)
    {
        const int SolSocket = 1;
        const int SoPeerCred = 17; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        Span<byte> credentials = stackalloc byte[12];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) < 4)
                return null;
        }
        catch (SocketException)
        {
            return null;
        }
        var pid = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(credentials);
        return pid > 0 ? NetworkNamespaceOf(pid.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null;
    }

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

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WsCore.WebSockets.Server;

/// <summary>
/// Non-blocking <c>recv</c> and <c>send</c> on a socket's descriptor (Linux), for the connections that wait on
/// <see cref="SocketReadiness"/>: <c>MSG_DONTWAIT</c> makes each call non-blocking by itself, so the socket is never
/// switched to non-blocking mode through <see cref="Socket.Blocking"/>, which on Linux creates the runtime's
/// asynchronous state for the socket (its SocketAsyncContext and three locks, 224 bytes on every idle connection)
/// only to set <c>O_NONBLOCK</c>.
/// </summary>
/// <remarks>The handle is passed as a <see cref="SafeHandle"/>, so the marshaller holds a reference on it for the
/// call, as the runtime's own socket calls do: a connection aborted from another thread meanwhile closes its
/// descriptor only after the call returns, never while a number that may already be another socket's is in
/// use.</remarks>
internal static unsafe partial class DescriptorIo
{
    // <sys/socket.h>: return EAGAIN instead of waiting; no SIGPIPE on a peer that has gone (the runtime ignores the
    // signal anyway; this keeps the call correct without relying on it).
    private const int MsgPeek = 0x2;
    private const int MsgDontWait = 0x40;
    private const int MsgNoSignal = 0x4000;

    // <asm-generic/errno.h>, the numbers of every Linux architecture .NET runs on.
    private const int Eintr = 4;
    private const int Ebadf = 9;
    private const int Eagain = 11;
    private const int Enomem = 12;
    private const int Epipe = 32;
    private const int Enetdown = 100;
    private const int Enetunreach = 101;
    private const int Econnaborted = 103;
    private const int Econnreset = 104;
    private const int Enobufs = 105;
    private const int Enotconn = 107;
    private const int Etimedout = 110;
    private const int Ehostunreach = 113;

    /// <summary>Reads what is there, without waiting: the count (0 at the end of the stream), with
    /// <see cref="SocketError.WouldBlock"/> when nothing is. With <paramref name="peek"/> the bytes stay in the socket
    /// for the next read.</summary>
    public static int Receive(SafeSocketHandle socket, Span<byte> buffer, out SocketError error, bool peek = false)
    {
        fixed (byte* start = buffer)
        {
            nint read;
            while ((read = Recv(socket, start, buffer.Length, peek ? MsgDontWait | MsgPeek : MsgDontWait)) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Eintr)
                {
                    error = ToSocketError(errno);
                    return 0;
                }
            }
            error = SocketError.Success;
            return (int)read;
        }
    }

    /// <summary>Writes what the kernel takes now: the count, with <see cref="SocketError.WouldBlock"/> when the
    /// socket's send buffer is full.</summary>
    public static int Send(SafeSocketHandle socket, ReadOnlySpan<byte> data, out SocketError error)
    {
        fixed (byte* start = data)
        {
            nint sent;
            while ((sent = SendTo(socket, start, data.Length, MsgDontWait | MsgNoSignal)) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Eintr)
                {
                    error = ToSocketError(errno);
                    return 0;
                }
            }
            error = SocketError.Success;
            return (int)sent;
        }
    }

    // The codes the runtime gives the same errors (SocketErrorPal), for those a connection meets; the rest are
    // reported as a plain socket error.
    private static SocketError ToSocketError(int errno) => errno switch
    {
        Eagain => SocketError.WouldBlock,
        Econnreset => SocketError.ConnectionReset,
        Epipe => SocketError.Shutdown,
        Enotconn => SocketError.NotConnected,
        Etimedout => SocketError.TimedOut,
        Econnaborted => SocketError.ConnectionAborted,
        Ehostunreach => SocketError.HostUnreachable,
        Enetunreach => SocketError.NetworkUnreachable,
        Enetdown => SocketError.NetworkDown,
        Enobufs or Enomem => SocketError.NoBufferSpaceAvailable,
        Ebadf => SocketError.OperationAborted,
        _ => SocketError.SocketError,
    };

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(SafeSocketHandle socket, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SendTo(SafeSocketHandle socket, byte* buffer, nint length, int flags);
}

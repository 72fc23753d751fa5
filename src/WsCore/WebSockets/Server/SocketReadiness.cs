using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WsCore.WebSockets.Server;

/// <summary>Told by <see cref="SocketReadiness"/> that its socket became readable (data, the end, an error).</summary>
internal interface IReadinessListener
{
    void OnReadable();
}

/// <summary>
/// An epoll instance (Linux) and the thread that waits on it, telling each registered socket's listener when the
/// socket becomes readable. The server's plain connections wait here instead of in .NET's asynchronous receive: a
/// socket that never starts an asynchronous operation (and is read and written through <see cref="DescriptorIo"/>)
/// never gets the runtime's per-socket asynchronous state (SocketAsyncContext, its operation queues and a cached
/// SocketAsyncEventArgs with a pending operation: about 650 bytes per connection, half of an idle connection's managed
/// memory), and a message costs no more system calls than before.
/// </summary>
/// <remarks>
/// Registration is edge-triggered (<c>EPOLLET</c>): one <c>epoll_ctl</c> per connection, none per read. The kernel
/// queues an event when a socket that is readable at <c>EPOLL_CTL_ADD</c> is added and on every arrival after that,
/// so a reader that saw <c>EAGAIN</c> and then registers or waits cannot miss data (epoll(7), "edge-triggered").
/// Sockets are never removed: closing the socket removes it from the epoll set, and removing it by number after the
/// close could hit a new socket given the same number. Events are matched to listeners through a slot number and a
/// generation, so an event already read for a slot that was freed and taken again since is dropped.
/// <para>Listeners run on this thread when the process asked for inline socket completions
/// (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>, which serve sets: its continuations never block), as the
/// runtime's own epoll thread then runs them; otherwise they decide themselves to move to the thread pool. The number
/// of instances, each with its thread, follows the runtime's for its own engine (SocketAsyncEngine.GetEngineCount):
/// one per CPU with inline completions, so that one thread is never every connection's bottleneck, else one per 30
/// CPUs (8 on Arm), or <c>DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT</c>. Sockets are spread over them in turn.</para>
/// </remarks>
internal sealed class SocketReadiness
{
    // EPOLLERR and EPOLLHUP are always reported; EPOLLRDHUP: the peer's FIN, which a read then sees as the end.
    private const uint EpollIn = 0x001;
    private const uint EpollRdHup = 0x2000;
    private const uint EpollEt = 1u << 31;
    private const int EpollCtlAdd = 1;
    private const int EpollCloexec = 0x80000;
    private const int Eintr = 4;
    private const int EventsPerWait = 256;

    // struct epoll_event is packed on x86-64 (12 bytes: events, then data at offset 4) and naturally aligned on the
    // other 64-bit ABIs (16 bytes, data at offset 8); see <sys/epoll.h>'s __EPOLL_PACKED.
    private static readonly int s_eventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int s_dataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private static readonly Lazy<SocketReadiness[]?> s_instances = new(CreateAll);
    private static int s_next;

    private readonly int _epoll;
    private readonly Lock _slotsLock = new();
    private IReadinessListener?[] _listeners = new IReadinessListener?[1024];
    private uint[] _generations = new uint[1024];
    private int[] _free = new int[1024];
    private int _freeCount;
    private int _used;
    // A receive buffer kept for the next pump of one of this instance's sockets: with inline listeners every pump
    // runs on this thread, one after the other, and would otherwise rent and return one from the shared pool each.
    private byte[]? _spareBuffer;

    private SocketReadiness(int epoll, bool inlineListeners, int number)
    {
        _epoll = epoll;
        InlineListeners = inlineListeners;
        var thread = new Thread(WaitLoop) { IsBackground = true, Name = $"wsctl epoll {number}" };
        thread.Start();
    }

    /// <summary>The instance for the next socket, in turn; null where epoll is not available (not Linux) or
    /// <c>WSCTL_SERVER_EPOLL=0</c>, and the runtime's asynchronous receives are used instead.</summary>
    public static SocketReadiness? Next()
    {
        var all = s_instances.Value;
        return all is null ? null : all[(int)((uint)Interlocked.Increment(ref s_next) % (uint)all.Length)];
    }

    /// <summary>A receive buffer of at least <paramref name="size"/> bytes: this instance's spare one when it is
    /// free, else one from the shared pool. Give it back with <see cref="ReturnBuffer"/>.</summary>
    public byte[] RentBuffer(int size) =>
        Interlocked.Exchange(ref _spareBuffer, null) is { } spare && spare.Length >= size
            ? spare
            : ArrayPool<byte>.Shared.Rent(size);

    /// <summary>Gives back a buffer from <see cref="RentBuffer"/>.</summary>
    public void ReturnBuffer(byte[] buffer)
    {
        if (Interlocked.CompareExchange(ref _spareBuffer, buffer, null) is not null)
            ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>True when listeners may run their continuations on the epoll thread.</summary>
    public bool InlineListeners { get; }

    private static SocketReadiness[]? CreateAll()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("WSCTL_SERVER_EPOLL") == "0")
            return null;
        var inline = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";
        var cpusPerThread = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 8 : 30;
        var count = uint.TryParse(Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"),
            out var configured) && configured > 0
            ? (int)Math.Min(configured, 1024)
            : inline ? Environment.ProcessorCount
            : Math.Max(1, (int)Math.Round(Environment.ProcessorCount / (double)cpusPerThread));
        try
        {
            var all = new SocketReadiness[count];
            for (var i = 0; i < count; i++)
            {
                var epoll = EpollCreate1(EpollCloexec);
                if (epoll < 0)
                    return i == 0 ? null : all[..i];
                all[i] = new SocketReadiness(epoll, inline, i);
            }
            return all;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Adds a socket; its listener hears of every readiness from now on (at once if it is readable already) until
    /// <see cref="Release"/>. False when the kernel refused it (the caller falls back to the runtime's asynchronous
    /// receive).
    /// </summary>
    /// <param name="socket">The socket.</param>
    /// <param name="listener">Told of each readiness, on this instance's thread.</param>
    /// <param name="token">Set to the registration's token (for <see cref="Release"/>) before the kernel can report
    /// anything, so a listener called at once finds it set; 0 again when refused.</param>
    public bool Register(Socket socket, IReadinessListener listener, ref long token)
    {
        int slot;
        uint generation;
        lock (_slotsLock)
        {
            if (_freeCount > 0)
            {
                slot = _free[--_freeCount];
            }
            else
            {
                if (_used == _listeners.Length)
                    Grow();
                slot = _used++;
            }
            generation = ++_generations[slot];
            _listeners[slot] = listener;
        }
        Volatile.Write(ref token, ((long)generation << 32) | (uint)slot);
        Span<byte> ev = stackalloc byte[16];
        BitConverter.TryWriteBytes(ev, EpollIn | EpollRdHup | EpollEt);
        BitConverter.TryWriteBytes(ev[s_dataOffset..], token);
        // Held while its number is used: a socket closed meanwhile (Abort) fails here instead of its number, maybe
        // already another socket's, being added.
        var handle = socket.SafeHandle;
        var held = false;
        try
        {
            handle.DangerousAddRef(ref held);
            var fd = (int)handle.DangerousGetHandle();
            if (EpollCtl(_epoll, EpollCtlAdd, fd, ref MemoryMarshal.GetReference(ev)) == 0)
                return true;
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (held)
                handle.DangerousRelease();
        }
        Release(token);
        Volatile.Write(ref token, 0);
        return false;
    }

    /// <summary>Frees a registration's slot once its socket is closed (or about to be: no event reaches it
    /// after).</summary>
    public void Release(long token)
    {
        var slot = (int)(token & 0xffffffff);
        lock (_slotsLock)
        {
            if (_generations[slot] != (uint)(token >>> 32) || _listeners[slot] is null)
                return;
            _listeners[slot] = null;
            _free[_freeCount++] = slot;
        }
    }

    private void Grow()
    {
        var size = _listeners.Length * 2;
        Array.Resize(ref _listeners, size);
        Array.Resize(ref _generations, size);
        Array.Resize(ref _free, size);
    }

    [SuppressMessage("Design", "CA1031", Justification = "A listener's failure must not stop every other socket's")]
    private void WaitLoop()
    {
        var events = new byte[EventsPerWait * s_eventSize];
        var ready = new Ready[EventsPerWait];
        while (true)
        {
            var count = EpollWait(_epoll, ref events[0], EventsPerWait, -1);
            if (count < 0)
            {
                if (Marshal.GetLastPInvokeError() == Eintr)
                    continue;
                return; // the epoll descriptor is gone: nothing can be waited for any more
            }
            lock (_slotsLock)
            {
                for (var i = 0; i < count; i++)
                {
                    var token = BitConverter.ToInt64(events, i * s_eventSize + s_dataOffset);
                    var slot = (int)(token & 0xffffffff);
                    ready[i].Listener =
                        slot < _used && _generations[slot] == (uint)(token >>> 32) ? _listeners[slot] : null;
                }
            }
            for (var i = 0; i < count; i++)
            {
                var listener = ready[i].Listener;
                ready[i].Listener = null;
                try
                {
                    listener?.OnReadable();
                }
                catch (Exception)
                {
                    // OnReadable only completes a wait; its continuation's failures end its own connection.
                }
            }
        }
    }

    // A listener in an array of structs: storing into an array of an interface type costs a type check per store
    // (arrays are covariant), a struct's field does not.
    private struct Ready
    {
        public IReadinessListener? Listener;
    }

    [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static extern int EpollCreate1(int flags);

    [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static extern int EpollCtl(int epfd, int op, int fd, ref byte @event);

    [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static extern int EpollWait(int epfd, ref byte events, int maxEvents, int timeout);
}

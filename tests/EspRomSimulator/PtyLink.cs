using System.Runtime.InteropServices;

namespace EspRomSimulator;

/// <summary>
/// A pseudo-terminal whose far end (<see cref="Path"/>) a host opens as its serial port, with System.IO.Ports or
/// pyserial, as it would /dev/ttyUSB0: the simulator reads and writes the near end, and sees the rate the host set on
/// its port, which is what a link model needs (a TCP serial link has no rate). Modem lines (DTR/RTS) do not exist on
/// a pty: hosts run with --before/--after no-reset. Linux only.
/// </summary>
public sealed partial class PtyLink : IDisposable
{
    private const int ReadWrite = 2, NoControllingTerminal = 0x100;
    private const short PollIn = 1;
    // ioctl TCGETS2 (asm-generic/ioctls.h): _IOR('T', 0x2A, struct termios2), 44 bytes; c_ospeed at byte 40 holds
    // the output rate as a number whatever way the host set it.
    private const uint GetTermios2 = 0x802C542A;
    private const int Termios2Size = 44, OutputSpeedOffset = 40;

    private readonly int _near;
    // The far end held open by the simulator itself: reads of the near end then never fail while the host has its
    // port closed (between two runs), and the raw mode set here stays until a host sets its own.
    private readonly int _far;

    public PtyLink()
    {
        _near = Check(PosixOpenpt(ReadWrite | NoControllingTerminal), "posix_openpt");
        Check(Grantpt(_near), "grantpt");
        Check(Unlockpt(_near), "unlockpt");
        var name = new byte[128];
        Check(PtsnameR(_near, name, (nuint)name.Length), "ptsname_r");
        Path = System.Text.Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0));
        _far = Check(Open(Path, ReadWrite | NoControllingTerminal), "open " + Path);
        // Raw from the start: no echo, no line editing, no CR/LF translation.
        var termios = new byte[64];
        Check(Tcgetattr(_far, termios), "tcgetattr");
        Cfmakeraw(termios);
        Check(Tcsetattr(_far, 0, termios), "tcsetattr");
    }

    /// <summary>The far end's device path (/dev/pts/N): the host's --port.</summary>
    public string Path { get; }

    /// <summary>The rate the host set on its port (a pty's two ends share one set of terminal settings).</summary>
    public int HostBaud
    {
        get
        {
            var termios2 = new byte[Termios2Size];
            Check(Ioctl(_near, GetTermios2, termios2), "ioctl TCGETS2");
            return BitConverter.ToInt32(termios2, OutputSpeedOffset);
        }
    }

    /// <summary>Reads what the host wrote, waiting at most <paramref name="timeoutMs"/>; 0 when nothing came.</summary>
    public int Read(byte[] buffer, int timeoutMs)
    {
        var poll = new PollFd { Fd = _near, Events = PollIn };
        if (Poll(ref poll, 1, timeoutMs) <= 0 || (poll.Revents & PollIn) == 0)
            return 0;
        var n = ReadFd(_near, buffer, (nuint)buffer.Length);
        return n < 0 ? throw new IOException($"read {Path}: errno {Marshal.GetLastPInvokeError()}") : (int)n;
    }

    /// <summary>Writes all of <paramref name="data"/> to the host.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var n = WriteFd(_near, data, (nuint)data.Length);
            if (n < 0)
                throw new IOException($"write {Path}: errno {Marshal.GetLastPInvokeError()}");
            data = data[(int)n..];
        }
    }

    public void Dispose()
    {
        CloseFd(_far);
        CloseFd(_near);
    }

    private static int Check(int result, string what) =>
        result >= 0 ? result : throw new IOException($"{what}: errno {Marshal.GetLastPInvokeError()}");

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "posix_openpt", SetLastError = true)]
    private static partial int PosixOpenpt(int flags);

    [LibraryImport("libc", EntryPoint = "grantpt", SetLastError = true)]
    private static partial int Grantpt(int fd);

    [LibraryImport("libc", EntryPoint = "unlockpt", SetLastError = true)]
    private static partial int Unlockpt(int fd);

    [LibraryImport("libc", EntryPoint = "ptsname_r", SetLastError = true)]
    private static partial int PtsnameR(int fd, Span<byte> buffer, nuint length);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    private static partial int Tcgetattr(int fd, Span<byte> termios);

    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    private static partial int Tcsetattr(int fd, int when, Span<byte> termios);

    [LibraryImport("libc", EntryPoint = "cfmakeraw")]
    private static partial void Cfmakeraw(Span<byte> termios);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, Span<byte> argument);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollFd fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadFd(int fd, Span<byte> buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteFd(int fd, ReadOnlySpan<byte> buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseFd(int fd);
}

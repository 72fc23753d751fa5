using Microsoft.Win32.SafeHandles;

namespace Wsctl.Cli;

/// <summary>stdout for a process that keeps running while it writes there (serve; send and monitor through
/// <see cref="WatchedOutput"/>).</summary>
public static class StandardOutput
{
    /// <summary>
    /// stdout, on a pipe or a terminal as a plain stream on descriptor 1 rather than the Console's: .NET's console
    /// streams serialise every write to stdout and to stderr under one lock, so a stdout nobody reads (a paused pager,
    /// a full pipe) would also hold up every log line on stderr, and with them the threads that log. A file or
    /// /dev/null (which never keep a write waiting) keeps the Console's stream: a FileStream there would write at a
    /// position of its own, and the Console's later writes (the --json result) over what it wrote. So do Windows and
    /// a closed stdout. Unlike the Console's stream, which drops writes to a pipe whose reader has gone, this one fails
    /// them (EPIPE, an IOException), so that a verb can tell that nobody reads any more.
    /// </summary>
    public static Stream OpenUnshared()
    {
        if (OperatingSystem.IsWindows())
            return Console.OpenStandardOutput();
        try
        {
            var stream = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
            if (!stream.CanSeek)
                return stream;
            stream.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
        }
        return Console.OpenStandardOutput();
    }
}

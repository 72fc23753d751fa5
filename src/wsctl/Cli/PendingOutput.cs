using System.Buffers;

namespace Wsctl.Cli;

/// <summary>
/// Lines gathered in memory and written to a stream in one call: a burst of output costs one write and one flush.
/// Not thread-safe (<see cref="JsonLines"/> locks around it).
/// </summary>
public sealed class PendingOutput(Stream output, int initialBytes = 1024)
{
    /// <summary>Where the pending bytes are written.</summary>
    public ArrayBufferWriter<byte> Buffer { get; } = new(initialBytes);

    /// <summary>Writes out and forgets the pending bytes (forgotten even if the write fails: no reader).</summary>
    public void Flush()
    {
        if (Buffer.WrittenCount == 0)
            return;
        try
        {
            output.Write(Buffer.WrittenSpan);
            output.Flush();
        }
        finally
        {
            Buffer.ResetWrittenCount();
        }
    }
}

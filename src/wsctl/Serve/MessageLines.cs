using System.Buffers;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;

namespace Wsctl.Serve;

/// <summary>
/// The plain output of serve: one line per received message, formatted on the thread that received it (a
/// <see cref="WsCore.WebSockets.Server.MessageHandler"/>) instead of travelling as an event through the server's queue.
/// The event path (an object and a pooled copy per message, a channel's lock, a thread woken to print) cost serve
/// about 30% more CPU than <c>--no-print</c> in the echo benchmark, most of it in that hand-over, not in the writing.
/// The lines go to an <see cref="UnblockingOutput"/>, so a receiving thread never waits for stdout.
/// </summary>
/// <param name="output">serve's stdout.</param>
/// <param name="raw">Text as it came, control characters included (see <see cref="TerminalText"/>).</param>
public sealed class MessageLines(UnblockingOutput output, bool raw)
{
    private readonly Lock _lock = new();
    private readonly ArrayBufferWriter<byte> _line = new(256);

    /// <summary>Adds the message's line; safe from any number of receiving threads at once.</summary>
    public void Write(MessageType type, ReadOnlySpan<byte> payload)
    {
        lock (_lock)
        {
            EventPrinter.WritePlainLine(_line, type, payload, raw);
            output.Write(_line.WrittenSpan);
            _line.ResetWrittenCount();
        }
    }
}

using System.Buffers;

namespace WsCore.Esp;

/// <summary>
/// SLIP framing as the ESP ROM loader uses it (RFC 1055; esp32-rom-protocol.md §1): every frame starts and ends
/// with 0xC0, and inside a frame 0xDB is sent as DB DD and 0xC0 as DB DC.
/// </summary>
public static class Slip
{
    public const byte End = 0xC0;
    public const byte Esc = 0xDB;
    public const byte EscEnd = 0xDC;
    public const byte EscEsc = 0xDD;

    /// <summary>The number of bytes <paramref name="packet"/> takes on the wire once framed.</summary>
    public static int EncodedLength(ReadOnlySpan<byte> packet)
    {
        var length = 2 + packet.Length;
        foreach (var b in packet)
            if (b is End or Esc)
                length++;
        return length;
    }

    /// <summary>
    /// Frames <paramref name="packet"/> into <paramref name="destination"/>; returns the bytes written.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> packet, Span<byte> destination)
    {
        var n = 0;
        destination[n++] = End;
        foreach (var b in packet)
        {
            switch (b)
            {
                case Esc:
                    destination[n++] = Esc;
                    destination[n++] = EscEsc;
                    break;
                case End:
                    destination[n++] = Esc;
                    destination[n++] = EscEnd;
                    break;
                default:
                    destination[n++] = b;
                    break;
            }
        }
        destination[n++] = End;
        return n;
    }

    /// <summary>Frames <paramref name="packet"/> into a new array.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> packet)
    {
        var frame = new byte[EncodedLength(packet)];
        Encode(packet, frame);
        return frame;
    }
}

/// <summary>What <see cref="SlipDecoder.Decode"/> stopped on.</summary>
public enum SlipDecodeStatus
{
    /// <summary>All input was consumed without completing a frame.</summary>
    NeedMoreData,
    /// <summary>A complete, non-empty frame is available.</summary>
    Frame,
    /// <summary>0xDB was followed by something other than DC/DD; the partial frame was dropped.</summary>
    BadEscape,
}

/// <summary>
/// Incremental SLIP decoder. Bytes outside a frame are noise (boot-log text, line glitches) and are skipped and
/// counted; back-to-back 0xC0 bytes (an empty frame) are skipped, so a lost end byte resynchronises on the next
/// start byte (esp32-rom-protocol.md §1).
/// </summary>
/// <remarks>Not thread-safe: one reader owns a decoder.</remarks>
public sealed class SlipDecoder
{
    private readonly ArrayBufferWriter<byte> _frame = new(256);
    private bool _inFrame;
    private bool _inEscape;

    /// <summary>Bytes skipped outside frames since the last <see cref="Reset"/>.</summary>
    public long NoiseBytes { get; private set; }

    /// <summary>
    /// Consumes input until a frame completes, an escape error occurs, or the input ends.
    /// </summary>
    /// <param name="input">Bytes received.</param>
    /// <param name="consumed">How many bytes of <paramref name="input"/> were used.</param>
    /// <param name="frame">The decoded frame when the result is <see cref="SlipDecodeStatus.Frame"/>.</param>
    public SlipDecodeStatus Decode(ReadOnlySpan<byte> input, out int consumed, out byte[]? frame)
    {
        frame = null;
        for (var i = 0; i < input.Length; i++)
        {
            var b = input[i];
            if (!_inFrame)
            {
                if (b == Slip.End)
                    _inFrame = true;
                else
                    NoiseBytes++;
                continue;
            }
            if (_inEscape)
            {
                _inEscape = false;
                if (b == Slip.EscEnd)
                    Append(Slip.End);
                else if (b == Slip.EscEsc)
                    Append(Slip.Esc);
                else
                {
                    _frame.Clear();
                    _inFrame = b == Slip.End; // an END right after a bad escape may start the next frame
                    consumed = i + 1;
                    return SlipDecodeStatus.BadEscape;
                }
                continue;
            }
            if (b == Slip.Esc)
                _inEscape = true;
            else if (b == Slip.End)
            {
                if (_frame.WrittenCount == 0)
                    continue; // empty frame: this END starts the next one
                frame = _frame.WrittenSpan.ToArray();
                _frame.Clear();
                _inFrame = false;
                consumed = i + 1;
                return SlipDecodeStatus.Frame;
            }
            else
                Append(b);
        }
        consumed = input.Length;
        return SlipDecodeStatus.NeedMoreData;
    }

    /// <summary>Forgets any partial frame.</summary>
    public void Reset()
    {
        _frame.Clear();
        _inFrame = false;
        _inEscape = false;
        NoiseBytes = 0;
    }

    private void Append(byte b)
    {
        _frame.GetSpan(1)[0] = b;
        _frame.Advance(1);
    }
}

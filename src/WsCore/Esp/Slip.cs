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

    /// <summary>
    /// The longest frame a loader is expected to send: the flasher stub's READ_FLASH streams flash as SLIP frames of
    /// raw data, one 4 KiB sector each (esptool's read_flash block size). Every ROM reply is far shorter: the longest,
    /// READ_FLASH_SLOW's, is an 8-byte header, 64 bytes of flash and 4 status bytes.
    /// </summary>
    public const int LongestExpectedFrame = 4096;

    /// <summary>
    /// The longest frame <see cref="SlipDecoder"/> keeps: twice <see cref="LongestExpectedFrame"/>, so a loader
    /// that sends a little more than expected still gets through. A longer one is no loader's (a line at the wrong baud
    /// rate, a socket:// peer that never sends END) and is dropped as noise instead of growing until a deadline.
    /// </summary>
    public const int MaxFrameLength = 2 * LongestExpectedFrame;

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
    /// <summary>
    /// The frame grew past <see cref="SlipDecoder.MaxFrameLength"/>: it was dropped and counted as noise, and so is
    /// everything up to the next 0xC0.
    /// </summary>
    FrameTooLong,
}

/// <summary>
/// Incremental SLIP decoder. Bytes outside a frame are noise (boot-log text, line glitches) and are skipped and
/// counted; back-to-back 0xC0 bytes (an empty frame) are skipped, so a lost end byte resynchronises on the next
/// start byte. A frame longer than <see cref="MaxFrameLength"/> is dropped and counted as noise, so what a decoder
/// holds never exceeds that, whatever the line sends.
/// </summary>
/// <remarks>Not thread-safe: one reader owns a decoder.</remarks>
public sealed class SlipDecoder
{
    private byte[] _frame;
    private int _length;
    private bool _inFrame;
    private bool _inEscape;

    /// <summary>A decoder that keeps frames of up to <paramref name="maxFrameLength"/> bytes (decoded).</summary>
    public SlipDecoder(int maxFrameLength = Slip.MaxFrameLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameLength, 1);
        MaxFrameLength = maxFrameLength;
        _frame = new byte[Math.Min(256, maxFrameLength)];
    }

    /// <summary>The longest frame kept; longer ones are dropped as noise.</summary>
    public int MaxFrameLength { get; }

    /// <summary>
    /// Bytes skipped outside frames, and those of frames dropped as too long, since the last <see cref="Reset"/>.
    /// </summary>
    public long NoiseBytes { get; private set; }

    /// <summary>The size of the buffer the decoder holds for a frame: at most <see cref="MaxFrameLength"/>.</summary>
    public int BufferSize => _frame.Length;

    /// <summary>
    /// Consumes input until a frame completes, an error occurs, or the input ends.
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
                    b = Slip.End;
                else if (b == Slip.EscEsc)
                    b = Slip.Esc;
                else
                {
                    _length = 0;
                    _inFrame = b == Slip.End; // an END right after a bad escape may start the next frame
                    consumed = i + 1;
                    return SlipDecodeStatus.BadEscape;
                }
            }
            else if (b == Slip.Esc)
            {
                _inEscape = true;
                continue;
            }
            else if (b == Slip.End)
            {
                if (_length == 0)
                    continue; // empty frame: this END starts the next one
                frame = _frame.AsSpan(0, _length).ToArray();
                _length = 0;
                _inFrame = false;
                consumed = i + 1;
                return SlipDecodeStatus.Frame;
            }
            if (_length == MaxFrameLength)
            {
                // Out of frame from here: the bytes until the next END are noise, and that END may start a frame.
                NoiseBytes += _length + 1;
                _length = 0;
                _inFrame = false;
                consumed = i + 1;
                return SlipDecodeStatus.FrameTooLong;
            }
            if (_length == _frame.Length)
                Array.Resize(ref _frame, Math.Min(_frame.Length * 2, MaxFrameLength));
            _frame[_length++] = b;
        }
        consumed = input.Length;
        return SlipDecodeStatus.NeedMoreData;
    }

    /// <summary>Forgets any partial frame.</summary>
    public void Reset()
    {
        _length = 0;
        _inFrame = false;
        _inEscape = false;
        NoiseBytes = 0;
    }
}

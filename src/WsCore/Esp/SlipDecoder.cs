namespace WsCore.Esp;

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

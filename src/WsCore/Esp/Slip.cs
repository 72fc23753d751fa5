namespace WsCore.Esp;

/// <summary>
/// SLIP framing as the ESP ROM loader uses it (RFC 1055; docs/esp32-rom-protocol.md §1): every frame starts and ends
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

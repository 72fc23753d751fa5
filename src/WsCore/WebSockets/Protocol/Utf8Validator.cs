using System.Text.Unicode;

namespace WsCore.WebSockets.Protocol;

/// <summary>
/// Incremental UTF-8 validation (RFC 3629 §4) for text messages that arrive in fragments and in pieces
/// (RFC 6455 §5.6, §8.1). It carries an incomplete trailing sequence from one piece to the next, and rejects a byte
/// as soon as no valid continuation could follow it (overlong forms, surrogates, code points above U+10FFFF), which
/// is what Autobahn's "fail fast" cases (6.4.x) expect.
/// </summary>
/// <remarks>A mutable struct: keep it in a field, not a copy. Not thread-safe.</remarks>
public struct Utf8Validator
{
    // Continuation bytes still expected, and the allowed range of the next one (narrowed after E0, ED, F0, F4).
    private byte _pending;
    private byte _lowest;
    private byte _highest;

    /// <summary>True when the bytes so far end on a character boundary (no sequence is waiting for its tail).</summary>
    public readonly bool IsComplete => _pending == 0;

    /// <summary>Forgets any partial sequence, for the next message.</summary>
    public void Reset() => _pending = 0;

    /// <summary>
    /// Checks the next piece. Returns false at the first byte that makes the text invalid; the validator is then in an
    /// undefined state until <see cref="Reset"/>.
    /// </summary>
    public bool Append(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        var triedWholeCheck = false;
        while (i < bytes.Length)
        {
            if (_pending == 0)
            {
                if (!triedWholeCheck)
                {
                    // Most of a piece is whole characters: the runtime's vectorised validator takes them in one pass
                    // (same rules: no overlongs, surrogates or code points above U+10FFFF). A character cut at the end
                    // of the piece, and a piece that is invalid, go through the byte-by-byte path below, which carries
                    // the cut character over and knows the byte where text fails.
                    triedWholeCheck = true;
                    var whole = WholeCharactersLength(bytes[i..]);
                    if (whole > 0 && Utf8.IsValid(bytes.Slice(i, whole)))
                    {
                        i += whole;
                        continue;
                    }
                }
                // ASCII runs are the common case: skip them with a vectorised search.
                var nonAscii = bytes[i..].IndexOfAnyInRange((byte)0x80, (byte)0xFF);
                if (nonAscii < 0)
                    return true;
                i += nonAscii;
                var lead = bytes[i++];
                switch (lead)
                {
                    case >= 0xC2 and <= 0xDF:
                        Expect(1, 0x80, 0xBF);
                        break;
                    case 0xE0:
                        Expect(2, 0xA0, 0xBF);   // no overlong 3-byte forms
                        break;
                    case 0xED:
                        Expect(2, 0x80, 0x9F);   // no UTF-16 surrogates U+D800..U+DFFF
                        break;
                    case >= 0xE1 and <= 0xEF:
                        Expect(2, 0x80, 0xBF);
                        break;
                    case 0xF0:
                        Expect(3, 0x90, 0xBF);   // no overlong 4-byte forms
                        break;
                    case >= 0xF1 and <= 0xF3:
                        Expect(3, 0x80, 0xBF);
                        break;
                    case 0xF4:
                        Expect(3, 0x80, 0x8F);   // nothing above U+10FFFF
                        break;
                    default:
                        return false;            // 80..C1 (stray continuation, overlong 2-byte) and F5..FF
                }
            }
            else
            {
                var next = bytes[i++];
                if (next < _lowest || next > _highest)
                    return false;
                _pending--;
                _lowest = 0x80;
                _highest = 0xBF;
            }
        }
        return true;
    }

    /// <summary>Validates a whole buffer at once (close reasons, single-frame messages).</summary>
    public static bool IsValid(ReadOnlySpan<byte> bytes)
    {
        var validator = new Utf8Validator();
        return validator.Append(bytes) && validator.IsComplete;
    }

    // The length of bytes without a trailing lead byte whose sequence is not complete yet.
    private static int WholeCharactersLength(ReadOnlySpan<byte> bytes)
    {
        for (var back = 1; back <= Math.Min(4, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80)
                continue;   // a continuation byte: its lead is further back
            var needed = b switch
            {
                >= 0xF0 => 4,
                >= 0xE0 => 3,
                >= 0xC0 => 2,
                _ => 1,
            };
            return needed > back ? bytes.Length - back : bytes.Length;
        }
        return bytes.Length;
    }

    private void Expect(byte pending, byte lowest, byte highest)
    {
        _pending = pending;
        _lowest = lowest;
        _highest = highest;
    }
}

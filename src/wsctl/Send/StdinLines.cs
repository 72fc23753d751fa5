using System.Buffers;
using System.Text.Unicode;
using WsCore;

namespace Wsctl.Send;

/// <summary>
/// Reads lines from a stream as bytes: each line is a text message (RFC 6455 §5.6: UTF-8), without its "\n" or
/// "\r\n". A line is held once, in a pooled buffer that grows with it, and is never turned into a .NET string and
/// back, so a 100 MB line costs about 100 MB, not eight times that. A line that is not UTF-8 is refused, naming
/// its number, rather than sent with replacement characters in it.
/// </summary>
public sealed class StdinLines : IAsyncDisposable
{
    private const int ReadChunkBytes = 16 * 1024;

    private readonly Stream _input;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(ReadChunkBytes);
    private int _start;   // the first byte not yet handed out
    private int _end;     // the end of what was read
    private bool _endOfInput;
    private int _lineNumber;

    public StdinLines(Stream input) => _input = input;

    /// <summary>
    /// The next line, valid until the next call; null at the end of input. A last line without "\n" is a line.
    /// </summary>
    /// <exception cref="WsCoreException">InvalidInput: the line is not UTF-8.</exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancel)
    {
        var scanned = 0; // bytes after _start known to hold no '\n'
        while (true)
        {
            var newline = _buffer.AsSpan(_start + scanned, _end - _start - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _buffer.AsMemory(_start, scanned + newline);
                _start += scanned + newline + 1;
                return Checked(line.Span.EndsWith("\r"u8) ? line[..^1] : line);
            }
            scanned = _end - _start;
            if (_endOfInput)
            {
                if (scanned == 0)
                    return null;
                var last = _buffer.AsMemory(_start, scanned);
                _start = _end;
                return Checked(last);
            }
            MakeRoom();
            var read = await _input.ReadAsync(_buffer.AsMemory(_end), cancel);
            if (read == 0)
                _endOfInput = true;
            _end += read;
        }
    }

    // Moves the pending bytes to the front, and doubles the buffer when a line has filled it.
    private void MakeRoom()
    {
        var pending = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _start = 0;
            _end = pending;
        }
        if (_buffer.Length - _end < ReadChunkBytes / 2)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(checked(_buffer.Length * 2));
            _buffer.AsSpan(0, _end).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
    }

    private ReadOnlyMemory<byte> Checked(ReadOnlyMemory<byte> line)
    {
        _lineNumber++;
        if (!Utf8.IsValid(line.Span))
            throw new WsCoreException(FailureKind.InvalidInput,
                $"stdin line {_lineNumber} is not UTF-8, and a text message must be (RFC 6455 §8.1)",
                "to send bytes, send stdin whole as one binary message (--binary), or give MESSAGE with --hex or " +
                "--base64");
        return line;
    }

    public ValueTask DisposeAsync()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        return ValueTask.CompletedTask;
    }
}

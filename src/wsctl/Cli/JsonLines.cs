using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Wsctl.Cli;

/// <summary>Writes one JSON object per line to stdout (NativeAOT-safe: Utf8JsonWriter, no reflection).</summary>
public sealed class JsonLines
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Non-ASCII text stays readable; quotes and control characters are still escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly Stream _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Lock _lock = new();

    public JsonLines(Stream output) => _output = output;

    /// <summary>Writes one object, built by <paramref name="write"/>, as one line, and flushes it.</summary>
    public void Write(Action<Utf8JsonWriter> write)
    {
        lock (_lock)
        {
            using (var json = new Utf8JsonWriter(_buffer, WriterOptions))
            {
                json.WriteStartObject();
                write(json);
                json.WriteEndObject();
            }
            _buffer.Write("\n"u8);
            _output.Write(_buffer.WrittenSpan);
            _output.Flush();
            _buffer.ResetWrittenCount();
        }
    }

    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}

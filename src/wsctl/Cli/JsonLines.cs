using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Wsctl.Cli;

/// <summary>
/// Writes one JSON object per line to stdout (NativeAOT-safe: Utf8JsonWriter, no reflection): the one place that
/// says how wsctl writes JSON (<see cref="WriterOptions"/>) and timestamps (<see cref="Timestamp"/>). Thread-safe:
/// lines from several threads never interleave.
/// </summary>
public sealed class JsonLines
{
    /// <summary>
    /// Non-ASCII text and characters such as '&lt;' stay readable (stdout is no HTML page); quotes and control
    /// characters are still escaped.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    // ISO 8601 in UTC with milliseconds, e.g. 2025-01-31T12:00:00.123Z.
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    private readonly PendingOutput _pending;
    // One writer, reset for every object: a line costs no allocation of its own.
    private readonly Utf8JsonWriter _json;
    private readonly Lock _lock = new();

    public JsonLines(Stream output, int initialBufferBytes = 1024)
    {
        _pending = new PendingOutput(output, initialBufferBytes);
        _json = new Utf8JsonWriter(_pending.Buffer, WriterOptions);
    }

    /// <summary>Writes one object, built by <paramref name="write"/>, as one line, and flushes it.</summary>
    public void Write(Action<Utf8JsonWriter> write)
    {
        lock (_lock)
        {
            AppendLocked(write, static (json, w) => w(json));
            _pending.Flush();
        }
    }

    /// <summary>
    /// Adds one object, built by <paramref name="write"/> from <paramref name="state"/>, as one line to the pending
    /// output without flushing it (a burst of lines, then one <see cref="Flush"/>).
    /// </summary>
    public void Append<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        lock (_lock)
            AppendLocked(state, write);
    }

    /// <summary>Writes out the pending lines.</summary>
    public void Flush()
    {
        lock (_lock)
            _pending.Flush();
    }

    /// <summary>A timestamp as wsctl's JSON carries it: ISO 8601 in UTC with milliseconds.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    /// <summary>Writes <paramref name="time"/> as <see cref="Timestamp"/> does, without allocating a string.</summary>
    public static void WriteTimestamp(Utf8JsonWriter json, string name, DateTimeOffset time)
    {
        Span<byte> text = stackalloc byte[32];
        time.UtcDateTime.TryFormat(text, out var length, TimestampFormat, CultureInfo.InvariantCulture);
        json.WriteString(name, text[..length]);
    }

    private void AppendLocked<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        _json.Reset(_pending.Buffer);
        _json.WriteStartObject();
        write(_json, state);
        _json.WriteEndObject();
        _json.Flush();
        _pending.Buffer.Write("\n"u8);
    }
}

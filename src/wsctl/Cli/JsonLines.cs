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
/// <remarks>
/// The contract of every verb's <c>--json</c> (README "JSON output", a schema per verb in <c>schemas/</c>): names in
/// snake_case, as ESP-IDF's own JSON files (<c>flasher_args.json</c>, <c>project_description.json</c>) and esptool
/// and espflash name theirs; every object has a <c>type</c>; and the last object of every run, however it ends
/// (Ctrl-C and errors included), is the <see cref="WriteResult">result</see>: <c>ok</c>, <c>exit_code</c>, and
/// <c>error</c> and <c>hint</c> when it failed. A verb writes its own result with what it has to add; where none
/// was written, <see cref="VerbRunner"/> writes the plain one.
/// </remarks>
public sealed class JsonLines
{
    private static volatile bool _resultWritten;

    /// <summary>Whether this process wrote its result object (one verb runs per process).</summary>
    public static bool ResultWritten => _resultWritten;

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

    /// <summary>The bytes of the lines appended and not yet flushed.</summary>
    public int PendingBytes
    {
        get
        {
            lock (_lock)
                return _pending.Buffer.WrittenCount;
        }
    }

    /// <summary>Writes out the pending lines.</summary>
    public void Flush()
    {
        lock (_lock)
            _pending.Flush();
    }

    /// <summary>
    /// Writes the run's last object: <c>"type":"result"</c>, <c>ok</c>, <c>exit_code</c>, <c>error</c> and
    /// <c>hint</c> when there is an error, then what <paramref name="more"/> adds.
    /// </summary>
    public void WriteResult(ExitCode exit, string? error = null, string? hint = null,
        Action<Utf8JsonWriter>? more = null)
    {
        Write(w =>
        {
            w.WriteString("type", "result");
            w.WriteBoolean("ok", exit == ExitCode.Ok);
            w.WriteNumber("exit_code", (int)exit);
            if (error is not null)
                w.WriteString("error", error);
            if (hint is not null)
                w.WriteString("hint", hint);
            more?.Invoke(w);
        });
        _resultWritten = true;
    }

    /// <summary>A name as wsctl's JSON spells it: <c>ClientId</c> as <c>client_id</c>, <c>NameNotResolved</c> as
    /// <c>name_not_resolved</c>.</summary>
    public static string SnakeCase(string name)
    {
        var snake = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1])
                || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
                snake.Append('_');
            snake.Append(char.ToLowerInvariant(c));
        }
        return snake.ToString();
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

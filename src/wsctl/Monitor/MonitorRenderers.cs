using System.Globalization;
using System.Text.Json;
using WsCore.Monitor;
using Wsctl.Cli;

namespace Wsctl.Monitor;

/// <summary>Shows a monitor session: the console's lines, the decoded addresses after them, and how it ended.</summary>
public interface IMonitorRenderer : IMonitorObserver
{
    /// <summary>The session's end, as the last thing shown (JSON only: text output says it on stderr).</summary>
    void OnResult(string result, int exitCode, string message);
}

/// <summary>
/// The console as it comes, for a terminal (<paramref name="keepEscapes"/>: colours kept) or a pipe (escape codes
/// stripped, so a log file or grep sees plain text). After a line with code addresses, one line per address:
/// <c>  0x400d1234: app_main at main/main.c:42</c>.
/// </summary>
public sealed class TextMonitorRenderer(TextWriter output, bool keepEscapes) : IMonitorRenderer
{
    private bool _midLine;
    private volatile bool _timestamps;

    /// <summary>Switches the local time before each line on or off (Ctrl-T I); returns the new state.</summary>
    public bool ToggleTimestamps() => _timestamps = !_timestamps;

    public void OnLine(DateTimeOffset time, ConsoleLine line, IReadOnlyList<DecodedAddress> decoded)
    {
        _midLine = false;
        if (_timestamps && line.ShownBefore == 0)
            output.Write(time.ToLocalTime().ToString("HH:mm:ss.fff ", CultureInfo.InvariantCulture));
        var rest = line.Text[line.ShownBefore..];
        output.Write(keepEscapes ? rest : AnsiEscapes.Strip(rest));
        output.Write('\n');
        foreach (var address in decoded)
            output.Write(Describe(address) + "\n");
        output.Flush();
    }

    public void OnPendingText(string text)
    {
        _midLine = true;
        output.Write(keepEscapes ? text : AnsiEscapes.Strip(text));
        output.Flush();
    }

    // The end is said on stderr; a prompt left on screen gets its line ended first, so the shell's prompt starts clean.
    public void OnResult(string result, int exitCode, string message)
    {
        if (!_midLine)
            return;
        output.Write('\n');
        output.Flush();
    }

    /// <summary>
    /// <c>  0x400d1234: app_main at main/main.c:42</c>, or the function alone without line information.
    /// </summary>
    public static string Describe(DecodedAddress address)
    {
        var text = $"  0x{address.Address:x8}: {address.Function ?? "??"}";
        return address.File is null ? text : $"{text} at {ShownPath(address.File)}:{address.Line}";
    }

    /// <summary>
    /// A source path under the current directory is shown relative to it (the build's paths are absolute).
    /// </summary>
    public static string ShownPath(string file)
    {
        var here = Environment.CurrentDirectory.TrimEnd('/') + "/";
        return file.StartsWith(here, StringComparison.Ordinal) && file.Length > here.Length
            ? file[here.Length..]
            : file;
    }
}

/// <summary>
/// One JSON object per line: <c>{"type":"line","ts","text"}</c> for each console line (escape codes stripped), then
/// <c>{"type":"decoded","ts","addresses":[{"address","function","file","line"}]}</c> when it held code addresses, and
/// the result: <c>{"type":"result","ok","exit_code","error"?,"outcome","detail","ts"}</c>.
/// </summary>
public sealed class JsonMonitorRenderer(Stream output) : IMonitorRenderer
{
    private readonly JsonLines _json = new(output);

    public void OnLine(DateTimeOffset time, ConsoleLine line, IReadOnlyList<DecodedAddress> decoded)
    {
        var ts = JsonLines.Timestamp(time);
        _json.Write(w =>
        {
            w.WriteString("type", "line");
            w.WriteString("ts", ts);
            w.WriteString("text", AnsiEscapes.Strip(line.Text));
        });
        if (decoded.Count == 0)
            return;
        _json.Write(w =>
        {
            w.WriteString("type", "decoded");
            w.WriteString("ts", ts);
            w.WriteStartArray("addresses");
            foreach (var address in decoded)
                WriteAddress(w, address);
            w.WriteEndArray();
        });
    }

    // A prompt is part of a line: JSON shows whole lines only.
    public void OnPendingText(string text) { }

    public void OnResult(string result, int exitCode, string message) =>
        _json.WriteResult((ExitCode)exitCode, exitCode == 0 ? null : message, null, w =>
        {
            w.WriteString("ts", JsonLines.Timestamp(DateTimeOffset.UtcNow));
            w.WriteString("outcome", result);
            w.WriteString("detail", message);
        });

    private static void WriteAddress(Utf8JsonWriter w, DecodedAddress address)
    {
        w.WriteStartObject();
        w.WriteString("address", $"0x{address.Address:x8}");
        if (address.Function is null)
            w.WriteNull("function");
        else
            w.WriteString("function", address.Function);
        if (address.File is null)
        {
            w.WriteNull("file");
            w.WriteNull("line");
        }
        else
        {
            w.WriteString("file", TextMonitorRenderer.ShownPath(address.File));
            w.WriteNumber("line", address.Line ?? 0);
        }
        w.WriteEndObject();
    }
}

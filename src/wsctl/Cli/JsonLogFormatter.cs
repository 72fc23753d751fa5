using System.Globalization;
using System.Text;
using System.Text.Json;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Parsing;

namespace Wsctl.Cli;

/// <summary>
/// <c>--log-format json</c>: each log event as one object in the contract of every JSON wsctl writes
/// (<see cref="JsonLines"/>): <c>{"ts","type":"log","level","message","properties":{…}}</c>, names in snake_case.
/// The message is rendered as the text line shows it, strings without the quotes Serilog's own JSON formatter puts
/// around them ("connected to ws://…", not "connected to \"ws://…\"").
/// </summary>
public sealed class JsonLogFormatter : ITextFormatter
{
    public void Format(LogEvent logEvent, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonLines.WriterOptions))
        {
            json.WriteStartObject();
            JsonLines.WriteTimestamp(json, "ts", logEvent.Timestamp);
            json.WriteString("type", "log");
            json.WriteString("level", LevelName(logEvent.Level));
            json.WriteString("message", Render(logEvent));
            if (logEvent.Properties.Count > 0)
            {
                json.WriteStartObject("properties");
                foreach (var (name, value) in logEvent.Properties)
                {
                    json.WritePropertyName(JsonLines.SnakeCase(name));
                    WriteValue(json, value);
                }
                json.WriteEndObject();
            }
            if (logEvent.Exception is { } exception)
                json.WriteString("exception", exception.ToString());
            json.WriteEndObject();
        }
        output.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Write('\n');
    }

    private static string LevelName(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose => "verbose",
        LogEventLevel.Debug => "debug",
        LogEventLevel.Information => "info",
        LogEventLevel.Warning => "warning",
        LogEventLevel.Error => "error",
        _ => "fatal",
    };

    private static string Render(LogEvent logEvent)
    {
        var text = new StringBuilder();
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is TextToken literal)
                text.Append(literal.Text);
            else if (token is PropertyToken property && logEvent.Properties.TryGetValue(property.PropertyName,
                out var value))
                text.Append(value is ScalarValue { Value: IFormattable formattable }
                    ? formattable.ToString(property.Format, CultureInfo.InvariantCulture)
                    : value is ScalarValue scalar ? scalar.Value?.ToString() ?? "null" : value.ToString());
        }
        return text.ToString();
    }

    private static void WriteValue(Utf8JsonWriter json, LogEventPropertyValue value)
    {
        switch (value)
        {
            case ScalarValue { Value: null }:
                json.WriteNullValue();
                break;
            case ScalarValue { Value: bool flag }:
                json.WriteBooleanValue(flag);
                break;
            case ScalarValue
            {
                Value: int or long or short or byte or uint or ulong or ushort or double or float
                or decimal
            } number:
                json.WriteRawValue(Convert.ToString(number.Value, CultureInfo.InvariantCulture)!);
                break;
            case ScalarValue scalar:
                json.WriteStringValue(scalar.Value is IFormattable f
                    ? f.ToString(null, CultureInfo.InvariantCulture)
                    : scalar.Value!.ToString());
                break;
            default:
                json.WriteStringValue(value.ToString());
                break;
        }
    }
}

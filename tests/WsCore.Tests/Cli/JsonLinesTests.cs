using System.Text;
using Wsctl.Cli;

namespace WsCore.Tests.Cli;

/// <summary>The one JSON-lines writer of every verb: options, timestamps, pending lines.</summary>
public class JsonLinesTests
{
    [Fact]
    public void AppendThenFlush_WritesEachObjectOnItsOwnLine_OnlyAtFlush()
    {
        using var output = new MemoryStream();
        var lines = new JsonLines(output);

        lines.Append(1, static (w, n) => w.WriteNumber("n", n));
        lines.Append("über <b>", static (w, s) => w.WriteString("text", s));
        Assert.Equal(0, output.Length);
        lines.Flush();

        Assert.Equal("{\"n\":1}\n{\"text\":\"über <b>\"}\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public void WriteTimestamp_IsTimestampsText()
    {
        using var output = new MemoryStream();
        var time = new DateTimeOffset(2025, 1, 31, 13, 4, 5, 67, TimeSpan.FromHours(1));

        new JsonLines(output).Write(w => JsonLines.WriteTimestamp(w, "ts", time));

        Assert.Equal("2025-01-31T12:04:05.067Z", JsonLines.Timestamp(time));
        Assert.Equal("{\"ts\":\"2025-01-31T12:04:05.067Z\"}\n", Encoding.UTF8.GetString(output.ToArray()));
    }
}

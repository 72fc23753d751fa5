using System.Text;
using Wsctl.Send;

namespace WsCore.Tests.Send;

/// <summary>stdin's lines as bytes: split on LF (CR LF too), fed in any pieces, a long line held once.</summary>
public sealed class StdinLinesTests
{
    /// <summary>A stream that hands out at most <c>chunk</c> bytes per read, as a pipe may.</summary>
    private sealed class Trickle(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }

    private static async Task<List<string>> LinesAsync(byte[] input, int chunk)
    {
        await using var lines = new StdinLines(new Trickle(input, chunk));
        var all = new List<string>();
        while (await lines.ReadLineAsync(CancellationToken.None) is { } line)
            all.Add(Encoding.UTF8.GetString(line.Span));
        return all;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(65536)]
    public async Task Lines_InAnyPieces(int chunk)
    {
        var input = Encoding.UTF8.GetBytes("one\r\ntwo\n\nünï\nlast");
        Assert.Equal(["one", "two", "", "ünï", "last"], await LinesAsync(input, chunk));
    }

    [Fact]
    public async Task ALineOfSeveralMegabytes_ComesWhole()
    {
        var big = new string('x', 5_000_000);
        var lines = await LinesAsync(Encoding.UTF8.GetBytes(big + "\nafter\n"), 65536);
        Assert.Equal(2, lines.Count);
        Assert.Equal(big, lines[0]);
        Assert.Equal("after", lines[1]);
    }

    [Fact]
    public async Task NotUtf8_RefusedWithTheLineNumber()
    {
        var error = await Assert.ThrowsAsync<WsCoreException>(() => LinesAsync([(byte)'a', (byte)'\n', 0xFF], 8));
        Assert.Equal(FailureKind.InvalidInput, error.Kind);
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyInput_NoLines() => Assert.Empty(await LinesAsync([], 8));
}

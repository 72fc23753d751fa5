using WsCore.Tests.Support;

namespace WsCore.Tests.Send;

/// <summary><c>wsctl send --compress</c> against <c>wsctl serve --compress</c>, both real processes.</summary>
public sealed class SendCompressTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Send_CompressToServeCompress_EchoComesBackWhole()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--echo", "--no-counter", "--compress");
        using (serve)
        {
            var text = string.Concat(Enumerable.Repeat("{\"sensor\":\"counter\",\"value\":7}", 100));
            var result = await WsctlProcess.RunAsync(
                ["send", $"127.0.0.1:{port}", text, "--wait", "1", "--compress", "-q"]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Equal(text, result.Stdout.Trim());
            await serve.WaitForStdoutAsync(l => l.Contains("\"value\":7}{", StringComparison.Ordinal), Timeout);
        }
    }
}

using System.Diagnostics;
using WsCore.Improv;
using WsCore.Tests.Probe;
using WsCore.Tests.Support;

namespace WsCore.Tests.Provision;

/// <summary>
/// <c>ws_server_host --improv-stdio</c>: Improv on the host build's stdin and stdout, beside what it prints there, as
/// the device's console carries its log.
/// </summary>
public sealed class HostImprovStdioTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Stdio_DeviceInformationAndScan_Answered()
    {
        var info = new ProcessStartInfo(await FirmwareHost.BuildAsync())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--port", "0", "--counter-interval-ms", "0", "--improv-stdio", "--sim-ssid",
            "lab", "--sim-pass", ""])
            info.ArgumentList.Add(a);
        var host = Process.Start(info)!;
        try
        {
            host.BeginErrorReadLine();
            var stdin = host.StandardInput.BaseStream;
            stdin.Write(ImprovCodec.Rpc(ImprovCommand.RequestDeviceInformation, []));
            stdin.Write(ImprovCodec.Rpc(ImprovCommand.RequestScannedNetworks, []));
            stdin.Flush();

            var reader = new ImprovReader();
            var results = new List<IReadOnlyList<string>>();
            var buffer = new byte[512];
            using var limit = new CancellationTokenSource(Limit);
            // Device information, one network, the end of the list.
            while (results.Count < 3)
            {
                var n = await host.StandardOutput.BaseStream.ReadAsync(buffer, limit.Token);
                Assert.True(n > 0, "the host build closed its stdout");
                reader.Feed(buffer.AsSpan(0, n));
                while (reader.TryTake(out var packet))
                {
                    if (packet.Type == ImprovPacketType.RpcResult
                        && ImprovCodec.TryParseResult(packet.Data, out _, out var strings))
                        results.Add(strings);
                }
            }
            Assert.Equal(["esp32ws", "1.0.0", "host", "esp32ws"], results[0]);
            Assert.Equal(["lab", "-52", "NO"], results[1]); // an open network: --sim-pass ""
            Assert.Empty(results[2]);
            Assert.Equal(0, reader.BadChecksums);
        }
        finally
        {
            ChildProcess.KillAndDispose(host);
        }
    }
}

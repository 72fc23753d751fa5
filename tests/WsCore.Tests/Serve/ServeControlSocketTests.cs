using System.Globalization;
using System.Text.RegularExpressions;
using WsCore.Control;
using WsCore.Tests.Support;

namespace WsCore.Tests.Serve;

/// <summary>
/// serve's control socket over its whole life: created at start, gone however serve ends (signals, a second
/// SIGTERM while it closes its clients, killed by the test harness), and a stale one left by a killed serve replaced
/// by the next on that port. Each test has a runtime directory of its own, so what is left in it is this test's.
/// </summary>
public sealed class ServeControlSocketTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _runtimeDir = Directory.CreateTempSubdirectory("wsctl-serve-socket-").FullName;

    public void Dispose() => Directory.Delete(_runtimeDir, recursive: true);

    private Dictionary<string, string> Environment => new() { ["XDG_RUNTIME_DIR"] = _runtimeDir };

    private string SocketPath(int port) => ControlSocketPath.For(port, _runtimeDir);

    /// <summary>What is left in the control directory: every file, whatever its name.</summary>
    private string[] Leftovers() => Directory.Exists(Path.Combine(_runtimeDir, "wsctl"))
        ? [.. Directory.GetFileSystemEntries(Path.Combine(_runtimeDir, "wsctl")).Select(Path.GetFileName)!]
        : [];

    private Task<WsctlResult> BroadcastAsync(int port, string message) => WsctlProcess.RunAsync(
        ["broadcast", message, "--port", port.ToString(CultureInfo.InvariantCulture)], environment: Environment,
        timeout: Timeout);

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task Serve_StoppedBySignal_RemovesItsControlSocket(string signal)
    {
        var (serve, port) = await WsctlProcess.StartServeAsync(Environment, 0, "--no-counter");
        using (serve)
        {
            Assert.True(File.Exists(SocketPath(port)));
            serve.Signal(signal);
            Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
        }

        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task Serve_SecondSigtermWhileItWaitsForAClientsClose_StillRemovesItsControlSocket()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync(Environment, 0, "--no-counter");
        using (serve)
        {
            // A client that never answers the Close: stopping waits for it (up to the close timeout).
            using var silent = await RawWebSocket.ConnectAsync(port);
            await serve.WaitForStderrAsync(new Regex("client 1 connected"), Timeout);
            serve.Signal("TERM");
            await serve.WaitForStderrAsync(new Regex("stopping: closing 1 client"), Timeout);
            serve.Signal("TERM");
            // At once, as a shell reports a process SIGTERM killed (128 + 15).
            Assert.Equal(143, await serve.WaitForExitAsync(Timeout));
        }

        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task Serve_KilledByTheTestHarness_LeavesNoControlSocket()
    {
        // As every test that ends a serve by disposing it: SIGKILL, which serve cannot answer.
        var (serve, port) = await WsctlProcess.StartServeAsync(Environment, 0, "--no-counter");
        using (serve)
        {
            var delivered = await BroadcastAsync(port, "hello");
            Assert.True(delivered.ExitCode == 0, delivered.All);
        }

        Assert.Empty(Leftovers());
    }

    [Fact]
    public async Task Serve_StaleSocketOfAKilledServeOnItsPort_ReplacedAndBroadcastReachesTheNewServe()
    {
        var (first, port) = await WsctlProcess.StartServeAsync(Environment, 0, "--no-counter");
        first.Signal("KILL");
        await first.WaitForExitAsync(Timeout);
        Assert.True(File.Exists(SocketPath(port)), "a killed serve cannot remove its socket");
        var refused = await BroadcastAsync(port, "to nobody");
        Assert.True(refused.ExitCode == 4, refused.All);

        var (second, samePort) = await WsctlProcess.StartServeAsync(Environment, port, "--no-counter");
        using (first)
        using (second)
        {
            Assert.Equal(port, samePort);
            await second.WaitForStderrAsync(new Regex("Replacing stale control socket"), Timeout);
            var delivered = await BroadcastAsync(port, "hello");
            Assert.True(delivered.ExitCode == 0, delivered.All);
            Assert.Equal("delivered to 0 clients", delivered.Stdout.Trim());
            second.Signal("INT");
            Assert.Equal(0, await second.WaitForExitAsync(Timeout));
        }

        Assert.Empty(Leftovers());
    }
}

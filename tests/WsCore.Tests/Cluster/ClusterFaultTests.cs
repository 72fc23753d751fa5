using System.Globalization;
using System.Text.RegularExpressions;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Cluster;

/// <summary>
/// <c>serve --cluster</c> when things go wrong (faults lose nothing silently): Redis unreachable at start,
/// Redis killed and restarted while instances broadcast, and the usage errors of the cluster options.
/// </summary>
public class ClusterFaultTests
{
    private static readonly TimeSpan Timeout = ClusterLab.Timeout;

    [Fact]
    public async Task Serve_RedisUnreachableAtStart_OneLineErrorAndExit4WithoutListening()
    {
        var port = RedisServer.FreePort();
        var result = await WsctlProcess.RunAsync(["serve", "--port", "0", "--cluster", $"redis://127.0.0.1:{port}"],
            timeout: Timeout);
        Assert.Equal(4, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"wsctl: cannot reach the cluster's Redis at redis://127.0.0.1:{port}/0: ", lines[0]);
        Assert.StartsWith("hint: ", lines[1]);
        Assert.Contains("--cluster-optional", lines[1]);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("listening", result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
    }

    [Fact]
    public async Task Serve_ClusterOptionalRedisDown_ServesAloneThenJoinsWhenRedisStarts()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await redis.StopAsync();
        var name = "opt" + Guid.NewGuid().ToString("N")[..8];
        var (alone, alonePort) = await WsctlProcess.StartServeAsync("--no-counter", "--cluster", redis.Url,
            "--cluster-name", name, "--cluster-optional", "--cluster-lease", "1s");
        using (alone)
        {
            await alone.WaitForStderrAsync(new Regex("serving alone"), Timeout);
            await using var client = await CollectingClient.ConnectAsync(alonePort);
            await alone.StandardInput.WriteLineAsync("while-alone");
            await alone.StandardInput.FlushAsync();
            Assert.Equal("while-alone", await client.NextAsync());

            await redis.StartAsync();
            await alone.WaitForStderrAsync(ClusterLab.JoinedPattern(), Timeout);
            var (other, _) = await WsctlProcess.StartServeAsync("--no-counter", "--cluster", redis.Url,
                "--cluster-name", name);
            using (other)
            {
                await other.WaitForStderrAsync(ClusterLab.JoinedPattern(), Timeout);
                await other.StandardInput.WriteLineAsync("from-the-other");
                await other.StandardInput.FlushAsync();
                Assert.Equal("from-the-other", await client.NextAsync());
            }
        }
    }

    [Fact]
    public async Task Cluster_RedisRestartedMidBroadcast_ClientsStayServedAndUndeliveredCountLogged()
    {
        await using var lab = await ClusterLab.StartAsync(2, "--no-counter", "--cluster-lease", "1s");
        var (a, b) = (lab.Instances[0], lab.Instances[1]);
        await using var onA = await CollectingClient.ConnectAsync(a.Port);
        await using var onB = await CollectingClient.ConnectAsync(b.Port);

        // A steady broadcast from A's stdin, numbered, through the whole outage.
        using var stop = new CancellationTokenSource();
        var sent = 0;
        var feeding = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await a.Process.StandardInput.WriteLineAsync($"n{++sent}");
                await a.Process.StandardInput.FlushAsync();
                await Task.Delay(20);
            }
        });
        try
        {
            Assert.StartsWith("n", await onB.NextAsync());
            await lab.Redis.StopAsync();
            var lostLine = await a.Process.WaitForStderrAsync(new Regex("lost the cluster's Redis"), Timeout);
            await b.Process.WaitForStderrAsync(new Regex("lost the cluster's Redis"), Timeout);
            // One short line in words: the library's diagnostic dump (buffers, states, timings) is for -v.
            Assert.DoesNotContain("outstanding:", lostLine, StringComparison.Ordinal);
            Assert.True(lostLine.Length < 240, lostLine);
            // A's own clients are still served while Redis is away.
            onA.Drain();
            var during = await onA.NextAsync();
            Assert.StartsWith("n", during);

            await lab.Redis.StartAsync();
            var backLine = new Regex(@"is back after .*; (\d+) cluster message\(s\) could not be delivered");
            var back = await a.Process.WaitForStderrAsync(backLine, Timeout);
            var lost = int.Parse(backLine.Match(back).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(lost > 0, back);
            // Once A and B are resubscribed, B's client gets A's broadcasts again, without having been disconnected.
            var after = await onB.NextMatchingAsync(m => Number(m) > Number(during), Timeout);
            Assert.StartsWith("n", after);
        }
        finally
        {
            await stop.CancelAsync();
            await feeding;
        }
        Assert.False(onA.Ended || onB.Ended, "a client was disconnected");
        // B never got a message twice: the numbers it saw only go up.
        var seen = onB.Drain().Select(Number).ToList();
        Assert.Equal(seen.Order(), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Theory]
    [InlineData("--cluster-name", "x")]
    [InlineData("--cluster-max-clients", "3")]
    [InlineData("--cluster-optional")]
    public async Task Serve_ClusterOptionWithoutCluster_UsageError(params string[] option)
    {
        var result = await WsctlProcess.RunAsync(["serve", "--port", "0", .. option], timeout: Timeout);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("applies to --cluster", result.Stderr);
    }

    [Theory]
    [InlineData("http://127.0.0.1:6379")]
    [InlineData("redis://127.0.0.1:6379/db")]
    [InlineData("redis://user:hunter22@127.0.0.1?db=2")]
    public async Task Serve_ClusterNotARedisUrl_UsageError(string url)
    {
        var result = await WsctlProcess.RunAsync(["serve", "--port", "0", "--cluster", url], timeout: Timeout);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--cluster:", result.Stderr);
        Assert.DoesNotContain("hunter22", result.All);
        Assert.DoesNotContain("   at ", result.All);
    }

    private static int Number(string message) => message.StartsWith('n')
        ? int.Parse(message.AsSpan(1), CultureInfo.InvariantCulture) : -1;
}

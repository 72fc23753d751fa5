using System.Diagnostics;
using System.Text.Json;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Cluster;

/// <summary>
/// Three clustered instances behind Debian's HAProxy running the documented <c>deploy/haproxy/wsctl-cluster.cfg</c>
/// (deploy/haproxy/README.md): clients connect through it, land on different instances, and all receive every
/// broadcast, also after an instance is killed and its clients reconnect elsewhere.
/// </summary>
public class ClusterHaProxyTests
{
    private static readonly TimeSpan Timeout = ClusterLab.Timeout;

    [Fact]
    public async Task HaProxy_ThreeInstances_ClientsSpreadAndAllGetEveryBroadcastAlsoAfterAnInstanceIsKilled()
    {
        await using var lab = await ClusterLab.StartAsync(3, "--no-counter");
        using var proxy = await HaProxy.StartAsync([.. lab.Instances.Select(i => i.Port)]);
        var clients = new List<CollectingClient>();
        try
        {
            for (var i = 0; i < 6; i++)
                clients.Add(await CollectingClient.ConnectAsync(proxy.Port));
            var byInstance = await WaitForListAsync(lab.Instances[0], 6);
            // leastconn: two on each.
            Assert.Equal(lab.Instances.Select(i => i.Name).Order(StringComparer.Ordinal),
                byInstance.Keys.Order(StringComparer.Ordinal));
            Assert.All(byInstance.Values, count => Assert.Equal(2, count));

            await BroadcastAndExpectAsync(lab.Instances[1], clients, "through-haproxy");
            await lab.Instances[2].Process.StandardInput.WriteLineAsync("from-stdin");
            await lab.Instances[2].Process.StandardInput.FlushAsync();
            foreach (var client in clients)
                Assert.Equal("from-stdin", await client.NextAsync());

            // SIGKILL one instance: its two clients lose their connection and reconnect through HAProxy, which sends
            // them to the live instances.
            var victim = lab.Instances[0];
            victim.Process.Dispose();
            var watch = Stopwatch.StartNew();
            while (clients.Count(c => c.Ended) < 2 && watch.Elapsed < Timeout)
                await Task.Delay(20);
            var dropped = clients.Where(c => c.Ended).ToList();
            Assert.Equal(2, dropped.Count);
            foreach (var client in dropped)
            {
                clients.Remove(client);
                await client.DisposeAsync();
                clients.Add(await CollectingClient.ConnectAsync(proxy.Port));
            }
            var survivors = lab.Instances.Skip(1).ToList();
            var after = await WaitForListAsync(survivors[0], 6);
            Assert.Equal(survivors.Select(i => i.Name).Order(StringComparer.Ordinal),
                after.Keys.Order(StringComparer.Ordinal));
            await BroadcastAndExpectAsync(survivors[1], clients, "after-the-kill");
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    private static async Task BroadcastAndExpectAsync(ClusterLab.Instance via, List<CollectingClient> clients,
        string text)
    {
        var result = await ClusterLab.WsctlAsync("broadcast", text, "--port", via.PortText);
        Assert.Equal(0, result.ExitCode);
        foreach (var client in clients)
            Assert.Equal(text, await client.NextAsync());
    }

    // broadcast --list --json on one instance until it lists `count` clients; the count per instance.
    private static async Task<Dictionary<string, int>> WaitForListAsync(ClusterLab.Instance asked, int count)
    {
        var watch = Stopwatch.StartNew();
        var byInstance = new Dictionary<string, int>();
        while (watch.Elapsed < Timeout)
        {
            var list = await ClusterLab.WsctlAsync("broadcast", "--list", "--json", "--port", asked.PortText);
            Assert.Equal(0, list.ExitCode);
            byInstance = ClusterLab.ListedClients(list.Stdout)
                .Select(c => c.GetProperty("instance").GetString()!)
                .GroupBy(i => i).ToDictionary(g => g.Key, g => g.Count());
            if (byInstance.Values.Sum() == count)
                return byInstance;
            await Task.Delay(100);
        }
        throw new TimeoutException($"--list never showed {count} clients; last: {string.Join(", ", byInstance)}");
    }
}

using System.Diagnostics;
using System.Text.Json;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Cluster;

/// <summary>
/// <c>wsctl serve --cluster</c> as users run it: real serve processes, a real redis-server, independent
/// clients. Broadcast exactly once, one counter sequence through a leader kill, ids, --list and send --client across
/// instances, the cluster-wide client limit.
/// </summary>
public class ClusterServeTests
{
    private static readonly TimeSpan Timeout = ClusterLab.Timeout;

    [Fact]
    public async Task Broadcast_StdinControlAndRelayOnDifferentInstances_EveryClientGetsEachExactlyOnce()
    {
        await using var lab = await ClusterLab.StartAsync(3, "--no-counter", "--relay");
        var clients = new List<CollectingClient>();
        try
        {
            foreach (var instance in lab.Instances)
                for (var i = 0; i < 2; i++)
                    clients.Add(await CollectingClient.ConnectAsync(instance.Port));

            // stdin on the first instance, the control socket of the second, a client's message relayed by the third.
            await lab.Instances[0].Process.StandardInput.WriteLineAsync("from-stdin");
            await lab.Instances[0].Process.StandardInput.FlushAsync();
            foreach (var client in clients)
                Assert.Equal("from-stdin", await client.NextAsync());
            var control = await ClusterLab.WsctlAsync("broadcast", "from-control", "--port", lab.Instances[1].PortText);
            Assert.Equal(0, control.ExitCode);
            Assert.Equal("delivered to 6 clients", control.Stdout.Trim());
            foreach (var client in clients)
                Assert.Equal("from-control", await client.NextAsync());
            await clients[5].SendAsync("from-relay");
            foreach (var client in clients)
                Assert.Equal("from-relay", await client.NextAsync());

            // A last broadcast from each instance: what one instance publishes arrives in order, so anything that
            // had come twice would stand before these three.
            for (var i = 0; i < 3; i++)
            {
                await lab.Instances[i].Process.StandardInput.WriteLineAsync($"end-{i}");
                await lab.Instances[i].Process.StandardInput.FlushAsync();
            }
            foreach (var client in clients)
            {
                var last = new[] { await client.NextAsync(), await client.NextAsync(), await client.NextAsync() };
                Assert.Equal(["end-0", "end-1", "end-2"], last.Order().ToArray());
            }
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Counter_OneSequenceAcrossInstances_TakenOverWithinTwoLeasesAfterLeaderSigkill()
    {
        var lease = TimeSpan.FromSeconds(1);
        await using var lab = await ClusterLab.StartAsync(3, "--counter-interval", "200ms", "--cluster-lease", "1s");
        var clients = new List<CollectingClient>();
        try
        {
            foreach (var instance in lab.Instances)
                clients.Add(await CollectingClient.ConnectAsync(instance.Port));
            // The same values, in the same order, on every instance: one sequence. All clients are connected before
            // any is read; their reads still start at slightly different values on a loaded machine, so they are
            // compared where they overlap, which must hold every value of the sequence on every client.
            foreach (var client in clients)
                client.Drain();
            var first = await Task.WhenAll(clients.Select(c => CountersAsync(c, 8)));
            var from = first.Max(values => values[0]);
            var to = first.Min(values => values[^1]);
            var seen = string.Join(" | ", first.Select(values => string.Join(",", values)));
            Assert.True(to - from >= 2, $"the clients' counters hardly overlap: {seen}");
            var sequence = Enumerable.Range(0, (int)(to - from + 1)).Select(i => from + i).ToList();
            Assert.All(first, values => Assert.Equal(sequence, values.Where(v => v >= from && v <= to)));
            AssertIncreasing(first[0]);

            var leader = await WaitForLeaderAsync(lab);
            var survivors = lab.Instances.Where(i => i != leader).ToList();
            var watching = clients.Where((_, i) => lab.Instances[i] != leader).ToList();
            foreach (var client in watching)
                client.Drain();
            var last = first.Max(values => values[^1]);
            leader.Process.Dispose();   // SIGKILL: no goodbye, the lease runs out by itself
            var killed = Stopwatch.StartNew();

            var resumed = await watching[0].NextMatchingAsync(m => Counter(m) is { } v && v > last, Timeout);
            var gap = killed.Elapsed;
            // Takeover within two lease periods; the first value follows within one counter interval (and slack for
            // a loaded machine).
            Assert.True(gap < 2 * lease + TimeSpan.FromMilliseconds(200) + TimeSpan.FromSeconds(1),
                $"the counter resumed {gap.TotalSeconds:0.00} s after the leader was killed");
            var after = new List<long> { Counter(resumed)!.Value };
            after.AddRange(await CountersAsync(watching[0], 4));
            AssertIncreasing([.. first[0], .. after]);
            Assert.Contains(survivors, s => s.Process.Stderr.Contains("counter lease taken", StringComparison.Ordinal));
            var other = await CountersAsync(watching[1], 3);
            Assert.True(other.All(v => v > last), "values after the takeover are all new");
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task ClientIds_ListAndSendFromAnotherInstance_ReachTheClientWhereverItIs()
    {
        await using var lab = await ClusterLab.StartAsync(2, "--no-counter", "--json");
        var (a, b) = (lab.Instances[0], lab.Instances[1]);
        await using var onA = await CollectingClient.ConnectAsync(a.Port);
        await using var onB = await CollectingClient.ConnectAsync(b.Port);

        // --json events carry the instance.
        var openOnB = JsonDocument.Parse(
            await b.Process.WaitForStdoutAsync(l => l.Contains("\"open\"", StringComparison.Ordinal), Timeout));
        Assert.Equal(b.Name, openOnB.RootElement.GetProperty("instance").GetString());
        var idOnB = openOnB.RootElement.GetProperty("client").GetInt32();

        // --list on either instance lists both clients, each with its instance; ids are cluster-wide.
        foreach (var asked in lab.Instances)
        {
            var list = await ClusterLab.WsctlAsync("broadcast", "--list", "--json", "--port", asked.PortText);
            Assert.Equal(0, list.ExitCode);
            var rows = ClusterLab.ListedClients(list.Stdout);
            Assert.Equal(2, rows.Count);
            Assert.Equal(new[] { a.Name, b.Name }.Order(StringComparer.Ordinal),
                rows.Select(r => r.GetProperty("instance").GetString()!).Order(StringComparer.Ordinal));
            Assert.Equal(2, rows.Select(r => r.GetProperty("id").GetInt32()).Distinct().Count());
            Assert.Contains(rows, r =>
                r.GetProperty("id").GetInt32() == idOnB && r.GetProperty("instance").GetString() == b.Name);
        }
        var table = await ClusterLab.WsctlAsync("broadcast", "--list", "--port", a.PortText);
        Assert.Contains("INSTANCE", table.Stdout);
        Assert.Contains(b.Name, table.Stdout);

        // send --client on A reaches B's client, and only it.
        var sent = await ClusterLab.WsctlAsync("send", "--client",
            idOnB.ToString(System.Globalization.CultureInfo.InvariantCulture), "--port", a.PortText, "just-for-you");
        Assert.Equal(0, sent.ExitCode);
        Assert.Equal("just-for-you", await onB.NextAsync());
        var missing = await ClusterLab.WsctlAsync("send", "--client", "999999", "--port", a.PortText, "nobody");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("no client 999999", missing.Stderr);
        await a.Process.StandardInput.WriteLineAsync("marker");
        await a.Process.StandardInput.FlushAsync();
        Assert.Equal("marker", await onA.NextAsync());
        Assert.Equal("marker", await onB.NextAsync());
    }

    [Fact]
    public async Task ClusterMaxClients_CountedAcrossInstances_SlotsOfSigkilledInstanceComeBackAndItsIdsLeaveList()
    {
        // A lease of 3 s: long enough that a loaded machine does not let a live instance's entry lapse before the
        // counts are checked (1 s did, once), short enough that the killed one's slots come back soon.
        await using var lab = await ClusterLab.StartAsync(2, "--no-counter", "--cluster-max-clients", "3",
            "--cluster-lease", "3s");
        var (a, b) = (lab.Instances[0], lab.Instances[1]);
        using var a1 = await RawWebSocket.ConnectAsync(a.Port);
        using var a2 = await RawWebSocket.ConnectAsync(a.Port);
        using var b1 = await RawWebSocket.ConnectAsync(b.Port);
        Assert.All(new[] { a1, a2, b1 }, c => Assert.Equal(101, c.Status));
        using (var refusedOnB = await RawWebSocket.ConnectAsync(b.Port))
            Assert.Equal(503, refusedOnB.Status);
        using (var refusedOnA = await RawWebSocket.ConnectAsync(a.Port))
        {
            Assert.Equal(503, refusedOnA.Status);
            Assert.Contains("Retry-After: 5", refusedOnA.ResponseHead);
        }

        a.Process.Dispose();   // SIGKILL: its two slots must come back without a goodbye
        var waiting = Stopwatch.StartNew();
        RawWebSocket? admitted = null;
        while (admitted is null && waiting.Elapsed < Timeout)
        {
            var attempt = await RawWebSocket.ConnectAsync(b.Port);
            if (attempt.Status == 101)
                admitted = attempt;
            else
                attempt.Dispose();
            await Task.Delay(100);
        }
        using (admitted)
        {
            // They come back when the killed instance's entry expires (its lease), whatever the machine's load.
            Assert.NotNull(admitted);
            // Its ids left --list too: only B's clients remain.
            var list = await ClusterLab.WsctlAsync("broadcast", "--list", "--json", "--port", b.PortText);
            var instances = ClusterLab.ListedClients(list.Stdout)
                .Select(c => c.GetProperty("instance").GetString()!).ToList();
            Assert.Equal([b.Name, b.Name], instances);
        }
    }

    private static long? Counter(string message)
    {
        if (!message.Contains("\"counter\"", StringComparison.Ordinal))
            return null;
        using var json = JsonDocument.Parse(message);
        return json.RootElement.GetProperty("data").GetProperty("value").GetInt64();
    }

    private static async Task<List<long>> CountersAsync(CollectingClient client, int count)
    {
        var values = new List<long>();
        while (values.Count < count)
            values.Add(Counter(await client.NextMatchingAsync(m => Counter(m) is not null))!.Value);
        return values;
    }

    private static void AssertIncreasing(IReadOnlyList<long> values)
    {
        for (var i = 1; i < values.Count; i++)
            Assert.True(values[i] > values[i - 1], $"counter values not increasing: {string.Join(", ", values)}");
    }

    private static async Task<ClusterLab.Instance> WaitForLeaderAsync(ClusterLab lab)
    {
        var end = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < end)
        {
            // The holder is the last one to have taken the lease without losing it since.
            var leader = lab.Instances.FirstOrDefault(i =>
                i.Process.Stderr.LastIndexOf("counter lease taken", StringComparison.Ordinal) >
                i.Process.Stderr.LastIndexOf("counter lease lost", StringComparison.Ordinal));
            if (leader is not null)
                return leader;
            await Task.Delay(50);
        }
        throw new TimeoutException("no instance took the counter lease");
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Mdns;

/// <summary>
/// A [Fact] that runs only where network namespaces can be made: as root with a working <c>ip netns</c>.
/// mDNS tests never run in the machine's own namespace (it has a real interface).
/// </summary>
public sealed class NetNamespaceFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> SkipReason = new(FindSkipReason);

    public NetNamespaceFactAttribute()
    {
        if (SkipReason.Value is { } reason)
            Skip = reason;
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    private static string? FindSkipReason()
    {
        if (!OperatingSystem.IsLinux())
            return "mDNS namespace tests need Linux network namespaces";
        if (GetEffectiveUserId() != 0)
            return "mDNS namespace tests need root (they create network namespaces with ip netns)";
        try
        {
            var (code, _) = NetNamespaceLab.RunAsync("ip", ["netns", "list"], TimeSpan.FromSeconds(10))
                .GetAwaiter()
                .GetResult();
            return code == 0 ? null : "mDNS namespace tests need 'ip netns' (iproute2), which failed here";
        }
        catch (Exception ex)
        {
            return $"mDNS namespace tests need 'ip netns' (iproute2): {ex.Message}";
        }
    }
}

/// <summary>A process a test started, with its output lines collected as they arrive.</summary>
public sealed class LabProcess(Process process, string description) : IDisposable
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    public Process Process { get; } = process;

    public string Description { get; } = description;

    public IEnumerable<string> Lines => _lines;

    public string Output => string.Join('\n', _lines);

    internal void OnLine(string? line)
    {
        if (line is null)
            return;
        _lines.Enqueue(line);
        _lineArrived.Release();
    }

    /// <summary>
    /// Waits until a line matching <paramref name="match"/> has arrived; fails the test at the deadline.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_lines.FirstOrDefault(match) is { } line)
                return line;
            if (deadline.Elapsed >= timeout)
                throw new TimeoutException($"{Description}: no matching line within {timeout.TotalSeconds} s; " +
                    $"output:\n{Output}");
            await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Closes the process's stdin (the driver's "stop" signal) and waits for it to exit.</summary>
    public async Task<int> CloseInputAndWaitAsync(TimeSpan timeout)
    {
        Process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        await Process.WaitForExitAsync(cts.Token);
        return Process.ExitCode;
    }

    public void Dispose() => ChildProcess.KillAndDispose(Process, entireTree: true);
}

/// <summary>
/// Two network namespaces ("device" and "host") joined by a veth pair, as docs/mdns-testing.md describes, plus
/// the processes a test runs in them; everything is deleted on dispose. Names include the PID and a counter, so
/// parallel test runs do not collide. IPv6 duplicate address detection is off on the veth ends, so link-local
/// addresses are usable at once instead of after about two seconds.
/// </summary>
public sealed class NetNamespaceLab : IAsyncDisposable
{
    private static int _counter;
    private readonly List<LabProcess> _processes = [];
    private readonly List<string> _namespaces = [];

    private NetNamespaceLab(string id)
    {
        Id = id;
        DeviceNamespace = $"wsm-{id}-d";
        HostNamespace = $"wsm-{id}-h";
        DeviceInterface = $"wmd{id}";
        HostInterface = $"wmh{id}";
        WorkDirectory = Directory.CreateTempSubdirectory($"wsm-{id}-").FullName;
    }

    public string Id { get; }

    public string DeviceNamespace { get; }

    public string HostNamespace { get; }

    public string DeviceInterface { get; }

    public string HostInterface { get; }

    public const string DeviceAddress = "10.231.0.1";

    public const string HostAddress = "10.231.0.2";

    /// <summary>The host namespace's address on another subnet (<see cref="AddOffLinkHostAddressAsync"/>).</summary>
    public const string OffLinkAddress = "10.232.0.2";

    /// <summary>A private directory for configs and sockets, deleted on dispose.</summary>
    public string WorkDirectory { get; }

    public static async Task<NetNamespaceLab> CreateAsync()
    {
        // Interface names are limited to 15 bytes: "wmd" + up to 7 PID digits + a counter stays within that.
        var id = $"{Environment.ProcessId % 1_000_000}{Interlocked.Increment(ref _counter) % 100}";
        var lab = new NetNamespaceLab(id);
        try
        {
            await lab.IpAsync("netns", "add", lab.DeviceNamespace);
            lab._namespaces.Add(lab.DeviceNamespace);
            await lab.IpAsync("netns", "add", lab.HostNamespace);
            lab._namespaces.Add(lab.HostNamespace);
            await lab.IpAsync("link", "add", lab.DeviceInterface, "type", "veth", "peer", "name", lab.HostInterface);
            await lab.IpAsync("link", "set", lab.DeviceInterface, "netns", lab.DeviceNamespace);
            await lab.IpAsync("link", "set", lab.HostInterface, "netns", lab.HostNamespace);
            foreach (var (ns, iface, address) in new[] { (lab.DeviceNamespace, lab.DeviceInterface, DeviceAddress),
                (lab.HostNamespace, lab.HostInterface, HostAddress) })
            {
                await CheckedAsync("ip", ["netns", "exec", ns, "sysctl", "-qw", $"net.ipv6.conf.{iface}.accept_dad=0"]);
                await lab.IpAsync("-n", ns, "link", "set", "lo", "up");
                await lab.IpAsync("-n", ns, "addr", "add", $"{address}/24", "dev", iface);
                await lab.IpAsync("-n", ns, "link", "set", iface, "up");
                // Without this route an IPv4 multicast send fails (docs/mdns-testing.md).
                await lab.IpAsync("-n", ns, "route", "add", "224.0.0.0/4", "dev", iface);
            }
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Gives the host namespace a second address, <see cref="OffLinkAddress"/>, on a subnet the device has no address
    /// in, and the device a route to that subnet through the host: a sender on another network whose packets still
    /// reach the device, as through a router (what RFC 6762 §5.5 and §11 keep unicast mDNS answers from).
    /// </summary>
    public async Task AddOffLinkHostAddressAsync()
    {
        await IpAsync("-n", HostNamespace, "addr", "add", $"{OffLinkAddress}/24", "dev", HostInterface);
        await IpAsync("-n", DeviceNamespace, "route", "add", "10.232.0.0/24", "via", HostAddress);
    }

    /// <summary>
    /// Sets the MULTICAST flag on <paramref name="ns"/>'s loopback, which makes it an mDNS interface too.
    /// </summary>
    public Task EnableLoopbackMulticastAsync(string ns) => IpAsync("-n", ns, "link", "set", "lo", "multicast", "on");

    /// <summary>The test driver program (tests/MdnsDriver), built next to this test assembly's project.</summary>
    public static string DriverPath
    {
        get
        {
            // .../tests/WsCore.Tests/bin/CONFIG/TFM/ → .../tests/MdnsDriver/bin/CONFIG/TFM/MdnsDriver.dll
            var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            var tfm = testOutput.Name;
            var config = testOutput.Parent!.Name;
            var testsDir = testOutput.Parent.Parent!.Parent!.Parent!.FullName;
            var path = Path.Combine(testsDir, "MdnsDriver", "bin", config, tfm, "MdnsDriver.dll");
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException("build tests/MdnsDriver first (dotnet build wsctl.sln)", path);
        }
    }

    /// <summary>Starts the mDNS test driver in <paramref name="ns"/> (stderr goes to the same line list).</summary>
    public LabProcess StartDriver(string ns, params string[] args) =>
        Start(
            "ip", ["netns", "exec", ns, "dotnet", DriverPath, .. args], $"MdnsDriver {string.Join(' ', args)} in {ns}");

    /// <summary>Runs the driver to completion and returns its exit code and last JSON line.</summary>
    public async Task<(
        int ExitCode,
        JsonElement Json,
        LabProcess Process)> RunDriverAsync(string ns, TimeSpan timeout, params string[] args)
    {
        var process = StartDriver(ns, args);
        process.Process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        await process.Process.WaitForExitAsync(cts.Token);
        process.Process.WaitForExit(); // drains the output readers
        var json = process.Lines.LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException($"{process.Description} printed no JSON; output:\n{process.Output}");
        return (process.Process.ExitCode, JsonDocument.Parse(json).RootElement.Clone(), process);
    }

    /// <summary>Starts a process; it is killed on dispose if still running.</summary>
    public LabProcess Start(
        string fileName, IEnumerable<string> args, string description, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
                info.Environment[k] = v;
        }
        var process = new Process { StartInfo = info };
        var lab = new LabProcess(process, description);
        process.OutputDataReceived += (_, e) => lab.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => lab.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_processes)
            _processes.Add(lab);
        return lab;
    }

    /// <summary>
    /// Starts Debian's avahi-daemon in <paramref name="ns"/> as an independent mDNS peer, with its config and runtime
    /// directories in a private mount namespace (docs/mdns-testing.md), and waits until it has started up.
    /// </summary>
    public async Task<LabProcess> StartAvahiAsync(
        string ns, string iface, string hostName, string? serviceXml, bool ipv6, string? busAddress)
    {
        var conf = Path.Combine(WorkDirectory, $"avahi-{hostName}");
        Directory.CreateDirectory(Path.Combine(conf, "services"));
        await File.WriteAllTextAsync(Path.Combine(conf, "avahi-daemon.conf"), $"""
            [server]
            host-name={hostName}
            domain-name=local
            use-ipv4=yes
            use-ipv6={(ipv6 ? "yes" : "no")}
            allow-interfaces={iface}
            ratelimit-interval-usec=0
            enable-dbus={(busAddress is null ? "no" : "yes")}
            [publish]
            publish-hinfo=no
            publish-workstation=no
            """);
        if (serviceXml is not null)
            await File.WriteAllTextAsync(Path.Combine(conf, "services", "ws.service"), serviceXml);
        var script = $"mount --bind {conf} /etc/avahi && mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs " +
            "/run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f " +
            "/etc/avahi/avahi-daemon.conf";
        var env = busAddress is null
            ? null
            : new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = busAddress };
        var avahi = Start(
            "ip", ["netns", "exec", ns, "unshare", "-m", "sh", "-c", script], $"avahi-daemon {hostName} in {ns}", env);
        await avahi.WaitForLineAsync(
            l => l.Contains("Server startup complete", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        return avahi;
    }

    /// <summary>
    /// A private system bus for avahi and its clients (avahi-resolve/-browse need D-Bus). Returns its address.
    /// </summary>
    public async Task<string> StartPrivateBusAsync()
    {
        var socket = Path.Combine(WorkDirectory, "bus");
        var config = Path.Combine(WorkDirectory, "dbus.conf");
        // A piece of the configuration below, to keep its line short.
        const string allowMessages = "<allow send_destination=\"*\"/><allow receive_sender=\"*\"/>";
        await File.WriteAllTextAsync(config, $"""
            <busconfig><type>system</type><listen>unix:path={socket}</listen><auth>EXTERNAL</auth>
            <policy context="default"><allow user="*"/><allow own="*"/>{allowMessages}</policy></busconfig>
            """);
        Start("dbus-daemon", [$"--config-file={config}", "--nofork"], "dbus-daemon");
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(socket))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
                throw new TimeoutException("the private dbus-daemon did not create its socket");
            await Task.Delay(50);
        }
        return $"unix:path={socket}";
    }

    /// <summary>
    /// Runs <paramref name="fileName"/> until its output satisfies <paramref name="done"/> or the deadline passes;
    /// returns the last output. For avahi's clients, which answer from a cache that fills as packets arrive.
    /// </summary>
    /// <summary>
    /// Asserts that avahi's own clients (on the private bus in <paramref name="environment"/>) see a responder in the
    /// host namespace: its announcement alone put the service in avahi's cache (-c: cache only, no query sent),
    /// avahi-resolve resolves NAME.local to the host address, and avahi-browse resolves the service's host, address,
    /// port and TXT.
    /// </summary>
    public static async Task AssertAvahiSeesAsync(
        IDictionary<string, string> environment, string name, int port, int maxClients)
    {
        var cached = await PollAsync("avahi-browse", ["-ptc", "_ws._tcp"], environment,
            o => o.Contains($"{name};_ws._tcp", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.Contains($"{name};_ws._tcp", cached);
        var resolved = await PollAsync("avahi-resolve", ["-4", "-n", $"{name}.local"], environment,
            o => o.Contains(HostAddress, StringComparison.Ordinal), TimeSpan.FromSeconds(15));
        Assert.Contains(HostAddress, resolved);
        var browsed = await PollAsync(
            "avahi-browse",
            ["-rtp", "_ws._tcp"],
            environment,
            o => o.Split('\n').Any(l => l.StartsWith('=') && l.Contains($";{port};", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15));
        var line = Assert.Single(
            browsed.Split('\n'), l => l.StartsWith('=') && l.Contains(name, StringComparison.Ordinal));
        Assert.Contains($"{name}.local;{HostAddress};{port};", line);
        Assert.Contains("\"path=/\"", line);
        Assert.Contains($"\"max_clients={maxClients}\"", line);
    }

    /// <summary>
    /// Asserts that avahi's cache holds no _ws._tcp service any more (after goodbyes, RFC 6762 §10.1).
    /// </summary>
    public static async Task AssertAvahiForgotAsync(IDictionary<string, string> environment)
    {
        var after = await PollAsync("avahi-browse", ["-ptc", "_ws._tcp"], environment,
            o => !o.Contains("_ws._tcp", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("_ws._tcp", after);
    }

    public static async Task<string> PollAsync(
        string fileName,
        string[] args,
        IDictionary<string, string> environment,
        Func<string, bool> done,
        TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var output = "";
        while (deadline.Elapsed < timeout)
        {
            (_, output) = await RunAsync(fileName, args, TimeSpan.FromSeconds(10), environment);
            if (done(output))
                return output;
            await Task.Delay(250);
        }
        return output;
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName, IEnumerable<string> args, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
                info.Environment[k] = v;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        return (process.HasExited ? process.ExitCode : -1, await stdout + await stderr);
    }

    private static async Task CheckedAsync(string fileName, string[] args)
    {
        var (code, output) = await RunAsync(fileName, args, TimeSpan.FromSeconds(20));
        if (code != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', args)} failed ({code}): {output}");
    }

    private Task IpAsync(params string[] args) => CheckedAsync("ip", args);

    public async ValueTask DisposeAsync()
    {
        // Kill what the test started (by PID, newest first), then delete the namespaces (which deletes the veth pair).
        List<LabProcess> processes;
        lock (_processes)
            processes = [.. _processes];
        processes.Reverse();
        foreach (var process in processes)
            process.Dispose();
        foreach (var ns in _namespaces)
            await RunAsync("ip", ["netns", "del", ns], TimeSpan.FromSeconds(20));
        // Only left in the root namespace if setup failed between creating and moving it.
        await RunAsync("ip", ["link", "del", DeviceInterface], TimeSpan.FromSeconds(20));
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

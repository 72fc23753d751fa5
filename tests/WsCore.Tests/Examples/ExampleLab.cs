using System.Globalization;
using WsCore.Tests.Mdns;
using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>
/// The network the README's examples talk about, made of network namespaces the test creates: a "desk" namespace
/// (where the examples run, at 192.168.1.2) with a bridge, and one namespace per device, each joined to the bridge by
/// a veth pair, at 192.168.1.40 (esp32ws, the address the examples use), .41, .42…; each device is a
/// <c>wsctl serve --port 8080</c>, answering its mDNS name when it has one. Nothing is routed out of it, so traffic
/// to 192.168.1.40 or to NAME.local never leaves the lab. Everything is deleted on dispose.
/// </summary>
public sealed class ExampleLab : IAsyncDisposable
{
    private static int _counter;
    private readonly List<string> _namespaces = [];
    private readonly Dictionary<string, LabDevice> _devices = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _nextAddress = 41;

    private ExampleLab(string id)
    {
        Id = id;
        DeskNamespace = $"wsx-{id}-desk";
        Bridge = $"wxb{id}";
        WorkDirectory = Directory.CreateTempSubdirectory($"wsx-{id}-").FullName;
        RuntimeDirectory = Path.Combine(WorkDirectory, "xdg");
        Directory.CreateDirectory(RuntimeDirectory);
        File.SetUnixFileMode(
            RuntimeDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Id { get; }

    /// <summary>Where the examples run: a developer's machine on the devices' network.</summary>
    public string DeskNamespace { get; }

    public const string DeskAddress = "192.168.1.2";

    /// <summary>The address the README's examples give the board (ws://192.168.1.40:8080/).</summary>
    public const string BoardAddress = "192.168.1.40";

    public string Bridge { get; }

    public string WorkDirectory { get; }

    /// <summary>The lab's XDG_RUNTIME_DIRs (serve's control sockets): one per namespace, not the user's.</summary>
    public string RuntimeDirectory { get; }

    /// <summary>
    /// XDG_RUNTIME_DIR in <paramref name="ns"/>: each namespace is a machine of its own, with its own runtime
    /// directory (serve tells namespaces apart in its socket's name only where it can read PID 1's namespace).
    /// </summary>
    public string RuntimeDirectoryOf(string ns)
    {
        var dir = Path.Combine(RuntimeDirectory, ns);
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return dir;
    }

    public static async Task<ExampleLab> CreateAsync()
    {
        // Interface names are limited to 15 bytes: "wxd" + up to 8 id digits + 2 device digits stays within that.
        var id = $"{System.Environment.ProcessId % 1_000_000}{Interlocked.Increment(ref _counter) % 100}";
        var lab = new ExampleLab(id);
        try
        {
            await Ip("netns", "add", lab.DeskNamespace);
            lab._namespaces.Add(lab.DeskNamespace);
            await Ip("-n", lab.DeskNamespace, "link", "set", "lo", "up");
            // No multicast snooping: every mDNS packet reaches every port, as on a small switch.
            await Ip("-n", lab.DeskNamespace, "link", "add", lab.Bridge, "type", "bridge", "mcast_snooping", "0",
                "forward_delay", "0");
            await NoDadAsync(lab.DeskNamespace, lab.Bridge);
            await Ip("-n", lab.DeskNamespace, "addr", "add", $"{DeskAddress}/24", "dev", lab.Bridge);
            await Ip("-n", lab.DeskNamespace, "link", "set", lab.Bridge, "up");
            // Without this route an IPv4 multicast send fails (docs/mdns-testing.md).
            await Ip("-n", lab.DeskNamespace, "route", "add", "224.0.0.0/4", "dev", lab.Bridge);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>The environment of a process in <paramref name="ns"/>.</summary>
    public IDictionary<string, string> EnvironmentOf(string ns) => new Dictionary<string, string>
    {
        ["XDG_RUNTIME_DIR"] = RuntimeDirectoryOf(ns),
        ["DOTNET_NOLOGO"] = "1",
    };

    /// <summary>
    /// A new namespace on the lab's network at <paramref name="address"/> (else the next free one); returns its name.
    /// </summary>
    public async Task<(string Namespace, string Address)> AddNamespaceAsync(string? address = null)
    {
        int host;
        lock (_namespaces)
            host = address is null ? _nextAddress++ : int.Parse(address.Split('.')[3], CultureInfo.InvariantCulture);
        address ??= $"192.168.1.{host}";
        var ns = $"wsx-{Id}-{host}";
        var inside = $"wxd{Id}{host % 100}";
        var port = $"wxp{Id}{host % 100}";
        await Ip("netns", "add", ns);
        lock (_namespaces)
            _namespaces.Add(ns);
        await Ip("-n", DeskNamespace, "link", "add", port, "type", "veth", "peer", "name", inside, "netns", ns);
        await Ip("-n", DeskNamespace, "link", "set", port, "master", Bridge, "up");
        await Ip("-n", ns, "link", "set", "lo", "up");
        await NoDadAsync(ns, inside);
        await Ip("-n", ns, "addr", "add", $"{address}/24", "dev", inside);
        await Ip("-n", ns, "link", "set", inside, "up");
        await Ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", inside);
        return (ns, address);
    }

    /// <summary>
    /// The device <paramref name="name"/> (its mDNS name; esp32ws at <see cref="BoardAddress"/>) running
    /// <c>wsctl serve --port 8080 --mdns-name NAME ARGS</c>: the one running already when it has these arguments,
    /// else started anew (stopping one with other arguments), once its mDNS name is answered.
    /// </summary>
    public async Task<LabDevice> DeviceAsync(string name, params string[] serveArgs)
    {
        await _gate.WaitAsync();
        try
        {
            if (_devices.TryGetValue(name, out var running) && !running.Stopped)
            {
                if (running.Args.SequenceEqual(serveArgs) && !running.Serve.HasExited)
                    return running;
                await running.StopAsync();
            }
            var (ns, address) = running is not null
                ? (running.Namespace, running.Address)
                : await AddNamespaceAsync(name == "esp32ws" ? BoardAddress : null);
            var serve = ShellProcess.Start(
                $"exec dotnet '{WsctlProcess.DllPath}' serve --port 8080 --mdns-name {name} " +
                    string.Join(' ', serveArgs),
                WorkDirectory, EnvironmentOf(ns), ns, keepStdinOpen: true);
            var device = new LabDevice(name, ns, address, serveArgs, serve);
            _devices[name] = device;
            await serve.WaitForStderrAsync(l => l.Contains("mDNS: answering", StringComparison.Ordinal), Timeout);
            return device;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the device <paramref name="name"/> (the next <see cref="DeviceAsync"/> starts it anew).</summary>
    public async Task StopDeviceAsync(string name)
    {
        await _gate.WaitAsync();
        try
        {
            if (_devices.TryGetValue(name, out var device) && !device.Stopped)
                await device.StopAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static Task NoDadAsync(string ns, string iface) =>
        Checked("ip", "netns", "exec", ns, "sysctl", "-qw", $"net.ipv6.conf.{iface}.accept_dad=0");

    private static Task Ip(params string[] args) => Checked("ip", args);

    private static async Task Checked(string fileName, params string[] args)
    {
        var (code, output) = await NetNamespaceLab.RunAsync(fileName, args, TimeSpan.FromSeconds(20));
        if (code != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', args)} failed ({code}): {output}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var device in _devices.Values.Where(d => !d.Stopped))
            device.Serve.Dispose();
        List<string> namespaces;
        lock (_namespaces)
            namespaces = [.. _namespaces];
        // Deleting a namespace deletes the veth ends in it, and with them their peers on the bridge.
        foreach (var ns in namespaces.AsEnumerable().Reverse())
            await NetNamespaceLab.RunAsync("ip", ["netns", "del", ns], TimeSpan.FromSeconds(20));
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A device of the <see cref="ExampleLab"/>: a serve on port 8080 in its own namespace.</summary>
public sealed class LabDevice(string name, string ns, string address, string[] args, ShellProcess serve)
{
    public string Name { get; } = name;

    public string Namespace { get; } = ns;

    public string Address { get; } = address;

    public string[] Args { get; } = args;

    /// <summary>The serve process: received messages on stdout, logs on stderr.</summary>
    public ShellProcess Serve { get; } = serve;

    /// <summary>The number of stdout lines so far: what a row waits for comes after it.</summary>
    public int Mark => Serve.StdoutLines.Count;

    /// <summary>Waits for a received message (a stdout line of serve) equal to <paramref name="text"/>.</summary>
    public Task<string> WaitForMessageAsync(string text, int from) =>
        Serve.WaitForStdoutAsync(l => l == text, ExampleLab.Timeout, from);

    public bool Stopped { get; private set; }

    /// <summary>Ctrl-C: serve closes its clients with 1001 and exits 0.</summary>
    public async Task StopAsync()
    {
        Stopped = true;
        if (!Serve.HasExited)
        {
            Serve.Signal("INT");
            Assert.Equal(0, await Serve.WaitForExitAsync(ExampleLab.Timeout));
        }
        Serve.Dispose();
    }
}

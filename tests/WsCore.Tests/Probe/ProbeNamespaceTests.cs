using System.Diagnostics;
using System.Text.Json;
using WsCore.Tests.Mdns;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Probe;

/// <summary>
/// <c>wsctl probe</c>, <c>serve --mdns-name</c>, and <c>send</c>/<c>broadcast</c> with mDNS, for real: the "device"
/// and "host" network namespaces of <see cref="NetNamespaceLab"/> (made and deleted by each test), Debian's avahi as
/// the ESP32's mdns component, and avahi's own clients checking what serve announces.
/// </summary>
public sealed class ProbeNamespaceTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    // What an ESP32 running the firmware advertises (docs/mdns-testing.md): host esp32ws, _ws._tcp on 8080.
    private const string Esp32Service = """
        <?xml version="1.0" standalone='no'?><!DOCTYPE service-group SYSTEM "avahi-service.dtd">
        <service-group><name>esp32ws</name><service><type>_ws._tcp</type><port>8080</port>
        <txt-record>path=/</txt-record><txt-record>max_clients=5</txt-record></service></service-group>
        """;

    // serve's control socket lives under XDG_RUNTIME_DIR, which namespaces share: a private one per lab.
    private static Dictionary<string, string> PrivateRuntimeDir(NetNamespaceLab lab)
    {
        var dir = Path.Combine(lab.WorkDirectory, "xdg");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = dir, ["DOTNET_NOLOGO"] = "1" };
    }

    private static async Task<LabProcess> StartServeAsync(NetNamespaceLab lab, string ns, params string[] args)
    {
        var serve = lab.Start(
            "ip",
            ["netns", "exec", ns, "dotnet", WsctlProcess.DllPath, "serve", .. args],
            $"wsctl serve in {ns}",
            PrivateRuntimeDir(lab));
        await serve.WaitForLineAsync(l => l.Contains("listening on", StringComparison.Ordinal), ProcessTimeout);
        return serve;
    }

    private static Task<(int ExitCode, string Output)> WsctlAsync(
        NetNamespaceLab lab, string ns, params string[] args) =>
        NetNamespaceLab.RunAsync(
            "ip",
            ["netns", "exec", ns, "dotnet", WsctlProcess.DllPath, .. args],
            ProcessTimeout,
            PrivateRuntimeDir(lab));

    private static JsonElement JsonObject(string output) =>
        JsonDocument.Parse(output.Split('\n').Single(l => l.StartsWith('{'))).RootElement.Clone();

    private static void AssertHealthyOverMdns(JsonElement json, string output)
    {
        Assert.True(json.GetProperty("verdict").GetString() == "healthy", output);
        Assert.Equal(["resolve", "connect", "handshake", "ping", "message", "close"],
            json.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()));
        Assert.Equal(NetNamespaceLab.DeviceAddress, json.GetProperty("address").GetString());
        Assert.Contains("\"counter\"", json.GetProperty("first_message").GetProperty("data").GetString());
    }

    [NetNamespaceFact]
    public async Task Probe_AvahiPublishedEsp32NameWithServeBehindIt_HealthyOverMdnsExit0()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);
        await StartServeAsync(
            lab, lab.DeviceNamespace, "--port", "8080", "--bind", "0.0.0.0", "--counter-interval", "500ms");

        var (code, output) = await WsctlAsync(
            lab, lab.HostNamespace, "probe", "esp32ws.local", "--json", "--timeout", "10s");

        Assert.True(code == 0, output);
        var json = JsonObject(output);
        AssertHealthyOverMdns(json, output);
        Assert.Equal("mdns", json.GetProperty("resolve").GetProperty("method").GetString());
        Assert.Equal(lab.HostInterface, json.GetProperty("resolve").GetProperty("interface").GetString());
        Assert.Equal(NetNamespaceLab.DeviceAddress, json.GetProperty("addresses")[0].GetString());
        // The request named the device as a browser would: Host is the .local name, not the address.
        Assert.Equal("ws://esp32ws.local:8080/", json.GetProperty("url").GetString());
    }

    [NetNamespaceFact]
    public async Task Probe_ServeWithMdnsName_OurResponderAndQuerierEndToEnd_HealthyExit0()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        var serve = await StartServeAsync(
            lab, lab.DeviceNamespace, "--port", "8080", "--mdns-name", "benchdevice", "--counter-interval", "500ms");
        await serve.WaitForLineAsync(l => l.Contains("mDNS: answering", StringComparison.Ordinal), ProcessTimeout);

        var (code, output) = await WsctlAsync(lab, lab.HostNamespace, "probe", "benchdevice.local", "--json");

        Assert.True(code == 0, output);
        AssertHealthyOverMdns(JsonObject(output), output);
    }

    [NetNamespaceFact]
    public async Task Probe_ServeOnAnotherPort_PortComesFromItsService_PortOptionWins()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        var serve = await StartServeAsync(
            lab, lab.DeviceNamespace, "--port", "8090", "--mdns-name", "otherport", "--counter-interval", "500ms");
        await serve.WaitForLineAsync(l => l.Contains("mDNS: answering", StringComparison.Ordinal), ProcessTimeout);

        var (code, output) = await WsctlAsync(lab, lab.HostNamespace, "probe", "otherport.local", "--json");
        Assert.True(code == 0, output);
        var json = JsonObject(output);
        Assert.Equal("ws://otherport.local:8090/", json.GetProperty("url").GetString());
        Assert.Contains(
            "port 8090 from its _ws._tcp service", json.GetProperty("stages")[0].GetProperty("detail").GetString());

        var (explicitCode, explicitOutput) = await WsctlAsync(
            lab, lab.HostNamespace, "probe", "otherport.local", "--port", "8080", "--json");
        Assert.True(explicitCode == 4, explicitOutput);
    }

    [NetNamespaceFact]
    public async Task Serve_SamePortInTwoNamespaces_BothRun_EachBroadcastReachesItsOwn()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        // One runtime directory for both (the same user): the control sockets must still be told apart.
        await StartServeAsync(lab, lab.DeviceNamespace, "--port", "8080", "--no-counter");
        await StartServeAsync(lab, lab.HostNamespace, "--port", "8080", "--no-counter");
        foreach (var ns in new[] { lab.DeviceNamespace, lab.HostNamespace })
        {
            var (code, output) = await WsctlAsync(lab, ns, "broadcast", "hello", "--port", "8080");
            Assert.True(code == 0, output);
            Assert.Contains("delivered to 0 clients", output);
        }
    }

    [NetNamespaceFact]
    public async Task Probe_LocalNameNobodyHas_Exits3AfterItsWholeTimeout()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        // A responder is on the link, just not for this name: mDNS has no negative answer, only silence.
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);

        var (code, output) = await WsctlAsync(
            lab, lab.HostNamespace, "probe", "nobody-here.local", "--timeout", "2s", "--json");

        Assert.True(code == 3, output);
        var stage = Assert.Single(JsonObject(output).GetProperty("stages").EnumerateArray());
        Assert.Equal("resolve", stage.GetProperty("stage").GetString());
        Assert.Equal("name_not_resolved", stage.GetProperty("failure").GetString());
        // It kept asking for the whole --timeout (measured by the probe itself), not giving up early.
        Assert.True(stage.GetProperty("elapsed_ms").GetDouble() >= 2000, output);
    }

    [NetNamespaceFact]
    public async Task ProbeDiscover_AvahiPublishedEsp32_ListsNameAddressPortTxtAndProbesIt()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);
        await StartServeAsync(
            lab, lab.DeviceNamespace, "--port", "8080", "--bind", "0.0.0.0", "--counter-interval", "500ms");

        var (code, output) = await WsctlAsync(
            lab, lab.HostNamespace, "probe", "--discover", "--json", "--timeout", "3s");

        Assert.True(code == 0, output);
        var device = Assert.Single(JsonObject(output).GetProperty("devices").EnumerateArray());
        Assert.Equal("esp32ws", device.GetProperty("name").GetString());
        Assert.Equal("esp32ws.local", device.GetProperty("host").GetString());
        Assert.Equal(8080, device.GetProperty("port").GetInt32());
        Assert.Equal(NetNamespaceLab.DeviceAddress, device.GetProperty("addresses")[0].GetString());
        Assert.Equal("5", device.GetProperty("txt").GetProperty("max_clients").GetString());
        var probe = device.GetProperty("probe");
        Assert.Equal("dns-sd", probe.GetProperty("resolve").GetProperty("method").GetString());
        AssertHealthyOverMdns(probe, output);
    }

    [NetNamespaceFact]
    public async Task SendAndBroadcastDiscover_Esp32LocalName_ResolvedByOwnMdnsAndDelivered()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "esp32ws", Esp32Service, ipv6: false, busAddress: null);
        var serve = await StartServeAsync(
            lab, lab.DeviceNamespace, "--port", "8080", "--bind", "0.0.0.0", "--echo", "--no-counter");

        // No nss-mdns needed: send resolves esp32ws.local with WsCore's querier.
        var (code, output) = await WsctlAsync(
            lab, lab.HostNamespace, "send", "esp32ws.local", "hello over mdns", "--wait", "1");
        Assert.True(code == 0, output);
        Assert.Contains("hello over mdns", output);

        (code, output) = await WsctlAsync(
            lab, lab.HostNamespace, "broadcast", "to every device", "--discover", "--json", "--timeout", "3s");
        Assert.True(code == 0, output);
        var target = JsonDocument.Parse(output.Split('\n').Single(l => l.Contains("\"type\":\"target\"",
            StringComparison.Ordinal))).RootElement;
        Assert.True(target.GetProperty("ok").GetBoolean(), output);
        Assert.Contains(NetNamespaceLab.DeviceAddress, target.GetProperty("target").GetString());
        await serve.WaitForLineAsync(l => l.Contains("to every device", StringComparison.Ordinal), ProcessTimeout);

        // A .local name nobody answers is "not resolved" (3), not a timeout.
        (code, output) = await WsctlAsync(
            lab, lab.HostNamespace, "send", "nobody-here.local", "x", "--timeout", "1500ms");
        Assert.True(code == 3, output);
    }

    [NetNamespaceFact]
    public async Task ServeMdnsName_AvahiClients_ResolveAndBrowseIt_AndSigintGoodbyeRemovesIt()
    {
        await using var lab = await NetNamespaceLab.CreateAsync();
        var bus = await lab.StartPrivateBusAsync();
        var env = new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = bus };
        await lab.StartAvahiAsync(
            lab.DeviceNamespace, lab.DeviceInterface, "avahihost", serviceXml: null, ipv6: false, bus);
        var serve = await StartServeAsync(
            lab,
            lab.HostNamespace,
            "--port",
            "8090",
            "--bind",
            "0.0.0.0",
            "--max-clients",
            "3",
            "--mdns-name",
            "benchhost");
        await serve.WaitForLineAsync(l => l.Contains("mDNS: answering", StringComparison.Ordinal), ProcessTimeout);

        // Announced: in avahi's cache without being asked; avahi-resolve and avahi-browse see host, port and TXT.
        await NetNamespaceLab.AssertAvahiSeesAsync(env, "benchhost", 8090, maxClients: 3);

        // Ctrl-C: goodbye records, then exit 0; avahi drops the service (RFC 6762 §10.1).
        using (var kill = Process.Start(
            "kill", ["-INT", serve.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using (var exited = new CancellationTokenSource(ProcessTimeout))
            await serve.Process.WaitForExitAsync(exited.Token);
        Assert.Equal(0, serve.Process.ExitCode);
        await NetNamespaceLab.AssertAvahiForgotAsync(env);
    }
}

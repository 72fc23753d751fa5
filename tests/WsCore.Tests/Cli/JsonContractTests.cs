using System.Text.Json;
using Json.Schema;
using WsCore.Ota;
using WsCore.Tests.Esp;
using WsCore.Tests.Monitor;
using WsCore.Tests.Ota;
using WsCore.Tests.Provision;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;

namespace WsCore.Tests.Cli;

/// <summary>
/// Every verb's --json (and --log-format json) is one contract, checked by a validator that is not ours
/// (JsonSchema.Net) against the schemas in <c>schemas/</c>: each line of every run below, ok and failing alike, is
/// valid against its verb's schema, names are snake_case, every object has a type, and the last line is the result
/// whose exit_code is the process's.
/// </summary>
public sealed class JsonContractTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
    private static readonly Lazy<Dictionary<string, JsonSchema>> Schemas = new(LoadSchemas);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static Dictionary<string, JsonSchema> LoadSchemas()
    {
        var directory = Path.Combine(RepoPaths.Root, "schemas");
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        // Each file under one base, so a verb's "common.schema.json#/$defs/…" finds the shared definitions beside
        // it, as it does for any validator that loads the directory.
        var baseUri = new Uri("https://wsctl.invalid/schemas/");
        JsonSchema Load(string file) => JsonSchema.FromText(File.ReadAllText(file), options,
            new Uri(baseUri, Path.GetFileName(file)));
        Load(Path.Combine(directory, "common.schema.json"));
        return Directory.GetFiles(directory, "*.schema.json")
            .Where(f => !f.EndsWith("common.schema.json", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetFileName(f).Split('.')[0], Load);
    }

    /// <summary>Asserts every line valid against <paramref name="schema"/>, and returns them parsed.</summary>
    private static List<JsonElement> AssertValid(string schema, string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var parsed = new List<JsonElement>();
        foreach (var line in lines)
        {
            var element = JsonDocument.Parse(line).RootElement.Clone();
            var results = Schemas.Value[schema].Evaluate(element,
                new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(results.IsValid, $"{schema}: {line}\n{JsonSerializer.Serialize(results, Indented)}");
            parsed.Add(element);
        }
        return parsed;
    }

    /// <summary>A run's stdout against its verb's schema; the result last, its exit code the process's.</summary>
    private static List<JsonElement> AssertRun(string schema, WsctlResult run)
    {
        var parsed = AssertValid(schema, run.Stdout);
        var last = parsed[^1];
        Assert.Equal("result", last.GetProperty("type").GetString());
        Assert.Equal(run.ExitCode, last.GetProperty("exit_code").GetInt32());
        Assert.Single(parsed, o => o.GetProperty("type").GetString() == "result");
        return parsed;
    }

    private static Task<WsctlResult> RunAsync(params string[] args) =>
        WsctlProcess.RunAsync(args, timeout: Limit);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Serve_EveryEvent_ThenTheResult_AndAFailedStart()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--json");
        using (serve)
        {
            await using (var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/")))
            {
                await client.SendTextAsync("hello");
                await client.SendAsync(MessageType.Binary, new byte[] { 1, 2, 3 });
                await client.CloseAsync();
            }
            await serve.WaitForStdoutAsync(l => l.Contains("\"close\"", StringComparison.Ordinal), Limit);
            // A second serve on the same port fails at start: its result says why.
            var second = AssertRun("serve", await RunAsync("serve", "--port",
                port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"));
            Assert.False(second[^1].GetProperty("ok").GetBoolean());
            serve.Signal("INT");
            var exit = await serve.WaitForExitAsync(Limit);
            var objects = AssertRun("serve", new WsctlResult(exit, serve.Stdout, serve.Stderr));
            Assert.Equal(["open", "text", "binary", "close", "result"],
                objects.Select(o => o.GetProperty("type").GetString()));
        }
    }

    [Fact]
    public async Task Provision_ScanJoinProbe_ThenAWrongPassword()
    {
        using var host = await ImprovHost.StartAsync();
        Dictionary<string, string> Pass(string password) => new() { ["WSCTL_WIFI_PASS"] = password };
        var joined = AssertRun("provision", await WsctlProcess.RunAsync(
            ["provision", "-p", host.Pty, "--ssid", ImprovHost.Ssid, "--scan", "--probe", "--json"],
            environment: Pass(ImprovHost.Password), timeout: Limit));
        Assert.True(joined[^1].GetProperty("ok").GetBoolean());
        Assert.Equal("provisioned", joined[^1].GetProperty("state").GetString());

        var refused = AssertRun("provision", await WsctlProcess.RunAsync(
            ["provision", "-p", host.Pty, "--ssid", ImprovHost.Ssid, "--json"],
            environment: Pass("not the password"), timeout: Limit));
        Assert.Equal(4, refused[^1].GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Serve_Tls_TheCertificateEvent()
    {
        var (serve, _) = await WsctlProcess.StartServeAsync("--no-counter", "--json", "--tls-self-signed");
        using (serve)
        {
            await serve.WaitForStdoutAsync(l => l.Contains("tls_certificate", StringComparison.Ordinal), Limit);
            serve.Signal("INT");
            var exit = await serve.WaitForExitAsync(Limit);
            var objects = AssertRun("serve", new WsctlResult(exit, serve.Stdout, serve.Stderr));
            Assert.Equal("tls_certificate", objects[0].GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Send_Messages_Result_Failures_AndTheClientPath()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--echo", "--no-counter");
        using (serve)
        {
            var target = $"127.0.0.1:{port}";
            var ok = AssertRun("send", await RunAsync("send", target, "hi", "--wait", "1", "--json"));
            Assert.Equal("text", ok[0].GetProperty("type").GetString());
            AssertRun("send", await RunAsync("send", target, "--hex", "0102", "--wait", "1", "--json"));
            AssertRun("send", await RunAsync("send", $"127.0.0.1:{FreePort()}", "x", "--json"));
            AssertRun("send", await RunAsync("send", target, "x", "--wait-for", "never", "--timeout", "1s",
                "--json"));
            AssertRun("send", await RunAsync("send", "--client", "999", "x", "--port",
                port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"));
            // A usage error with --json still ends with a result.
            AssertRun("send", await RunAsync("send", target, "x", "--hex", "--base64", "--json"));
        }
    }

    [Fact]
    public async Task Broadcast_Delivered_List_Targets()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter");
        using (serve)
        {
            var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await using var client = await WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
            AssertRun("broadcast", await RunAsync("broadcast", "to all", "--port", portText, "--json"));
            var listed = AssertRun("broadcast", await RunAsync("broadcast", "--list", "--port", portText, "--json"));
            Assert.Equal("client", listed[0].GetProperty("type").GetString());
            AssertRun("broadcast", await RunAsync("broadcast", "x", "--to", $"127.0.0.1:{port}", "--to",
                $"127.0.0.1:{FreePort()}", "--json"));
            AssertRun("broadcast", await RunAsync("broadcast", "x", "--port",
                FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"));
        }
    }

    [Fact]
    public async Task Probe_Healthy_Failed()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--counter-interval", "200ms");
        using (serve)
        {
            AssertRun("probe", await RunAsync("probe", $"127.0.0.1:{port}", "--json"));
            AssertRun("probe", await RunAsync("probe", $"127.0.0.1:{FreePort()}", "--json"));
        }
    }

    [Fact]
    public async Task Probe_OtaInfo_OfADeviceThatOffersIt()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(new byte[32],
            OtaImage.Parse(OtaTestImage.Build("esp32ws", "1.2.0", 4096), "app"));
        var result = AssertRun("probe", await RunAsync("probe", $"127.0.0.1:{device.Port}", "--wait-message", "0",
            "--json"));
        var ota = result[^1].GetProperty("ota");
        Assert.True(ota.GetProperty("available").GetBoolean());
        Assert.Equal("1.2.0", ota.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Ota_Events_TargetLines_Result_Plan_AndFailures()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        await using var device = await OtaDeviceSimulator.StartAsync(key,
            OtaImage.Parse(OtaTestImage.Build("esp32ws", "1.2.0", 4096), "app"));
        var dir = Directory.CreateTempSubdirectory("wsctl-json-ota-").FullName;
        try
        {
            var app = Path.Combine(dir, "app.bin");
            await File.WriteAllBytesAsync(app, OtaTestImage.Build("esp32ws", "1.3.0", 100 * 1024));
            var keyFile = Path.Combine(dir, "ota.key");
            await File.WriteAllTextAsync(keyFile, Convert.ToHexStringLower(key) + "\n");
            var target = $"127.0.0.1:{device.Port}";

            var updated = AssertRun("ota", await RunAsync("ota", target, "--firmware", app, "--ota-key", keyFile,
                "--json"));
            var types = updated.Select(o => o.GetProperty("type").GetString()).ToList();
            Assert.Equal(["hello", "auth", "progress", "rebooting", "hello", "confirmed", "target", "result"],
                types.Where((t, i) => i == 0 || t != types[i - 1])); // the progress objects as one
            Assert.Equal("updated", updated[^2].GetProperty("outcome").GetString());

            var plan = AssertRun("ota", await RunAsync("ota", target, "--firmware", app, "--dry-run", "--json"));
            Assert.Equal("plan", plan[0].GetProperty("type").GetString());
            // A wrong key (exit 8), a usage error (no key file): each ends with its result.
            var otherKey = Path.Combine(dir, "other.key");
            await File.WriteAllTextAsync(otherKey, new string('0', 64));
            var next = Path.Combine(dir, "next.bin");
            await File.WriteAllBytesAsync(next, OtaTestImage.Build("esp32ws", "1.4.0", 4096));
            var refused = AssertRun("ota", await RunAsync("ota", target, "--firmware", next, "--ota-key", otherKey,
                "--json"));
            Assert.Equal(8, refused[^1].GetProperty("exit_code").GetInt32());
            AssertRun("ota", await RunAsync("ota", target, "--firmware", app, "--json"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Bench_Result_AndNothingConnected()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--no-print");
        using (serve)
        {
            AssertRun("bench", await RunAsync("bench", $"127.0.0.1:{port}", "--duration", "500ms", "--json"));
            AssertRun("bench", await RunAsync("bench", $"127.0.0.1:{port}", "--mode", "idle", "--clients", "2",
                "--duration", "300ms", "--json"));
            AssertRun("bench", await RunAsync("bench", $"127.0.0.1:{FreePort()}", "--duration", "300ms", "--json"));
        }
    }

    [Fact]
    public async Task Flash_Plan_Device_AndAFailure()
    {
        using var fw = new FirmwareFixture();
        var nvs = Path.Combine(Path.GetTempPath(), $"wsctl-json-{Guid.NewGuid():N}.bin");
        try
        {
            var environment = new Dictionary<string, string> { ["WSCTL_WIFI_PASS"] = "secret-pass" };
            var plan = AssertRun("flash", await WsctlProcess.RunAsync(
                ["flash", "--firmware", fw.Dir, "--ssid", "MyNet", "--nvs-out", nvs, "--json"],
                environment: environment, timeout: Limit));
            Assert.Equal("plan", plan[0].GetProperty("type").GetString());
            using (var sim = new RomSimulator())
            {
                AssertRun("flash", await WsctlProcess.RunAsync(
                    ["flash", "--port", sim.Url, "--before", "no-reset", "--after", "no-reset", "--ssid", "MyNet",
                        "--json"], environment: environment, timeout: Limit));
            }
            AssertRun("flash", await WsctlProcess.RunAsync(
                ["flash", "--port", $"socket://127.0.0.1:{FreePort()}", "--ssid", "MyNet", "--json"],
                environment: environment, timeout: Limit));
        }
        finally
        {
            File.Delete(nvs);
        }
    }

    [Fact]
    public async Task Flash_EraseAll_AndWebInstall()
    {
        using var fw = new FirmwareFixture();
        using (var sim = new RomSimulator())
        {
            var erased = AssertRun("flash", await RunAsync("flash", "--port", sim.Url, "--before", "no-reset",
                "--after", "no-reset", "--firmware", fw.Dir, "--erase-all", "--json"));
            Assert.Contains(erased, o => o.GetProperty("type").GetString() == "region_erased");
        }
        var site = Path.Combine(fw.Dir, "site");
        var web = AssertRun("flash", await RunAsync("flash", "--firmware", fw.Dir, "--web-install", site, "--json"));
        Assert.Equal(site, web[^1].GetProperty("web_install").GetString());
    }

    [Fact]
    public async Task Device_EverySubverb_AndFailures()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var plan = WsCore.FlashFiles.FlashFileLoader.Plan(new WsCore.FlashFiles.FlashRequest { Firmware = fw.Dir });
        FirmwareFixture.ExpectedFlash(plan.Regions.Select(r => (r.Offset, r.Data))).CopyTo(sim.Flash, 0);
        string[] Device(string subverb, params string[] rest) =>
            ["device", subverb, "--port", sim.Url, "--before", "no-reset", "--after", "no-reset", "--json", .. rest];
        var info = AssertRun("device", await RunAsync(Device("info")));
        Assert.Equal("ESP32", info[^1].GetProperty("chip").GetString());
        var output = Path.Combine(fw.Dir, "read.bin");
        var read = AssertRun("device", await RunAsync(Device("read", "--partition", "phy_init", "-o", output)));
        Assert.Contains(read, o => o.GetProperty("type").GetString() == "region_read");
        AssertRun("device", await RunAsync(Device("erase", "0x20000", "0x1000")));
        AssertRun("device", await RunAsync(Device("verify", "--firmware", fw.Dir)));
        AssertRun("device", await RunAsync(Device("partitions")));
        AssertRun("device", await RunAsync("device", "partitions", "--firmware", fw.Dir, "--json"));
        AssertRun("device", await RunAsync("device", "ports", "--json"));
        // Failures: a region that differs (11), an unaligned erase (1), no loader on the port (10).
        sim.Flash[0x10000 + 64] ^= 1;
        var differs = AssertRun("device", await RunAsync(Device("verify", "--firmware", fw.Dir)));
        Assert.Equal(11, differs[^1].GetProperty("exit_code").GetInt32());
        Assert.Contains(differs, o => o.GetProperty("type").GetString() == "region_differs");
        AssertRun("device", await RunAsync(Device("erase", "0x20001", "0x1000")));
        AssertRun("device", await RunAsync("device", "info", "--port", $"socket://127.0.0.1:{FreePort()}",
            "--json"));
    }

    [Fact]
    public async Task Monitor_Lines_Result_AndAFailure()
    {
        using var device = new ScriptedDevice("I (611) boot: hello\r\nI (612) app: world\r\n");
        var run = await RunAsync("monitor", "-p", device.Url, "--until", "world", "--json");
        var objects = AssertRun("monitor", run);
        Assert.Equal("line", objects[0].GetProperty("type").GetString());
        AssertRun("monitor", await RunAsync("monitor", "-p", $"socket://127.0.0.1:{FreePort()}", "--json"));
    }

    [Fact]
    public async Task Logs_EveryLine_OfAVerboseRun()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--echo", "--no-counter");
        using (serve)
        {
            var run = await RunAsync("send", $"127.0.0.1:{port}", "hi", "--wait", "1", "-v", "--log-format",
                "json");
            Assert.Equal(0, run.ExitCode);
            AssertValid("log", run.Stderr);
            var failed = await RunAsync("send", $"127.0.0.1:{FreePort()}", "x", "--log-format", "json");
            var last = AssertValid("log", failed.Stderr)[^1];
            Assert.Equal("error", last.GetProperty("level").GetString());
            Assert.False(last.GetProperty("message").GetString()!.Contains('"', StringComparison.Ordinal));
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using WsCore.Tests.Support;
using WsCore.Tests.WebSockets;

namespace WsCore.Tests.Serve;

/// <summary>
/// <c>wsctl serve</c> over TLS, as real processes: a self-signed certificate pinned by <c>wsctl send --pin</c>,
/// certificate files from a test PKI trusted by .NET's ClientWebSocket and HttpClient, Debian's python3-websockets
/// and headless Chromium, a reload on SIGHUP, plain clients told to use TLS, and stalled TLS hellos.
/// </summary>
public partial class ServeTlsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SelfSigned_FingerprintAtStart_SendWithThePinOrInsecureDelivers()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--tls-self-signed", "--json", "--no-counter");
        using (serve)
        {
            var certificate = await StartCertificateAsync(serve);
            var fingerprint = certificate.GetProperty("fingerprint_sha256").GetString()!;
            Assert.Equal("start", certificate.GetProperty("reason").GetString());
            Assert.True(certificate.GetProperty("self_signed").GetBoolean());
            var names = certificate.GetProperty("names").EnumerateArray().Select(n => n.GetString()!).ToList();
            foreach (var name in new[] { "localhost", Dns.GetHostName(), "127.0.0.1", "::1" })
                Assert.Contains(name, names, StringComparer.OrdinalIgnoreCase);
            // The log says it too, before the listening line, which names wss:// and the page on https://.
            Assert.Contains($"SHA-256 fingerprint {fingerprint}", serve.Stderr);
            Assert.Matches(@"listening on wss://.*; test page https://localhost:\d+/", serve.Stderr);

            var url = $"wss://127.0.0.1:{port}/";
            var pinned = await WsctlProcess.RunAsync(["send", url, "pinned", "--pin", fingerprint]);
            Assert.True(pinned.ExitCode == 0, pinned.All);
            // Hex in any case, colons optional.
            var bare = fingerprint.Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
            var barePin = await WsctlProcess.RunAsync(["send", url, "bare pin", "--pin", bare]);
            Assert.True(barePin.ExitCode == 0, barePin.All);
            var insecure = await WsctlProcess.RunAsync(["send", $"wss://localhost:{port}/", "insecure", "-k"]);
            Assert.True(insecure.ExitCode == 0, insecure.All);
            foreach (var text in new[] { "pinned", "bare pin", "insecure" })
                await serve.WaitForStdoutAsync(l => l.Contains($"\"data\":\"{text}\"", StringComparison.Ordinal),
                    Timeout);
        }
    }

    [Fact]
    public async Task SelfSigned_WrongPinOrNoTrust_Exit8NamingTheFingerprints()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--tls-self-signed", "--json", "--no-counter");
        using (serve)
        {
            var fingerprint = (await StartCertificateAsync(serve)).GetProperty("fingerprint_sha256").GetString()!;
            var wrongPin = string.Join(":", Enumerable.Repeat("AB", 32));
            var url = $"wss://127.0.0.1:{port}/";

            var wrong = await WsctlProcess.RunAsync(["send", url, "x", "--pin", wrongPin]);
            Assert.Equal(8, wrong.ExitCode);
            Assert.Contains($"its certificate's SHA-256 fingerprint is {fingerprint}, not the pinned {wrongPin}",
                wrong.Stderr);

            // No pin: the system does not trust it; the message shows the fingerprint, the hint the option.
            var untrusted = await WsctlProcess.RunAsync(["send", url, "x"]);
            Assert.Equal(8, untrusted.ExitCode);
            Assert.Contains($"not trusted (chain: UntrustedRoot); its SHA-256 fingerprint is {fingerprint}",
                untrusted.Stderr);
            Assert.Contains("(--pin SHA256)", untrusted.Stderr);

            // probe pins alike.
            var probe = await WsctlProcess.RunAsync(["probe", url, "--wait-message", "0", "--pin", wrongPin]);
            Assert.Equal(8, probe.ExitCode);
            Assert.Contains(fingerprint, probe.All);
            Assert.DoesNotContain(serve.StdoutLines, l => l.Contains("\"type\":\"open\"", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task PlainClients_ToATlsServe_GetA400SayingToUseTls()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--tls-self-signed", "--no-counter");
        using (serve)
        {
            var send = await WsctlProcess.RunAsync(["send", $"ws://127.0.0.1:{port}/", "x"]);
            Assert.Equal(5, send.ExitCode);
            Assert.Contains("400 Bad Request: this server speaks TLS: use wss:// or https://", send.Stderr);

            using var http = new HttpClient { Timeout = Timeout };
            var page = await http.GetAsync($"http://127.0.0.1:{port}/");
            Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
            Assert.Equal("this server speaks TLS: use wss:// or https://\n", await page.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task CertificateFiles_ClientWebSocketAndHttpsPageTrustTheTestRoot()
    {
        using var pki = TestPki.Create();
        var (serve, port) = await WsctlProcess.StartServeAsync(
            "--tls-cert", pki.ChainFile, "--tls-key", pki.KeyFile, "--echo", "--no-counter", "--json");
        using (serve)
        {
            var certificate = await StartCertificateAsync(serve);
            Assert.Equal(pki.ServerFingerprint, certificate.GetProperty("fingerprint_sha256").GetString());
            Assert.False(certificate.GetProperty("self_signed").GetBoolean());

            using var client = new ClientWebSocket();
            client.Options.RemoteCertificateValidationCallback =
                (_, c, chain, errors) => pki.Validates(c, chain, errors);
            using var cts = new CancellationTokenSource(Timeout);
            await client.ConnectAsync(new Uri($"wss://localhost:{port}/"), cts.Token);
            await client.SendAsync("over wss"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
            var buffer = new byte[256];
            var reply = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal("over wss", Encoding.UTF8.GetString(buffer, 0, reply.Count));

            // The page and /status over https, from the same port.
            using var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, c, chain, errors) =>
                pki.Validates(c, chain, errors);
            using var http = new HttpClient(handler) { Timeout = Timeout };
            var html = await http.GetStringAsync($"https://localhost:{port}/");
            Assert.Contains("new WebSocket(", html);
            var status = await http.GetStringAsync($"https://localhost:{port}/status");
            Assert.Equal("{\"clients\":1,\"maxClients\":5}", status);
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }
    }

    [Fact]
    public async Task CertificateFiles_PythonWebsocketsWithTheRootAsCafile_ExchangesAMessage()
    {
        Assert.True(File.Exists("/usr/bin/python3"), "python3 is missing: run scripts/prereqs.sh");
        using var pki = TestPki.Create();
        var (serve, port) = await WsctlProcess.StartServeAsync(
            "--tls-cert", pki.ChainFile, "--tls-key", pki.KeyFile, "--echo", "--no-counter");
        using (serve)
        {
            // Only the root is trusted: the server must send the intermediate from its chain file.
            const string script = """
                import asyncio, ssl, sys
                from websockets import connect
                async def main():
                    context = ssl.create_default_context(cafile=sys.argv[2])
                    async with connect(sys.argv[1], ssl=context) as ws:
                        await ws.send("from python over tls")
                        reply = await asyncio.wait_for(ws.recv(), 10)
                    print(reply, ws.close_code)
                asyncio.run(main())
                """;
            var (exit, stdout, stderr) = await RunPythonAsync(script, $"wss://localhost:{port}/", pki.RootFile);
            Assert.True(exit == 0, stderr);
            Assert.Equal("from python over tls 1000", stdout.Trim());
            await serve.WaitForStdoutAsync(l => l == "from python over tls", Timeout);
        }
    }

    [Fact]
    public async Task CertificateFiles_HttpsPageInHeadlessChromium_OpensItsWssSocket()
    {
        using var pki = TestPki.Create();
        var (serve, port) = await WsctlProcess.StartServeAsync(
            "--tls-cert", pki.ChainFile, "--tls-key", pki.KeyFile, "--counter-interval", "300ms", "--json");
        using (serve)
        {
            // Chromium accepts this one key's certificate (not any certificate) despite the untrusted root.
            await using var browser = await HeadlessChromium.OpenAsync($"https://127.0.0.1:{port}/", Timeout,
                $"--ignore-certificate-errors-spki-list={pki.ServerSpki}");
            var counter = await browser.EvaluateUntilAsync("document.getElementById('counter').textContent",
                value => long.TryParse(value, out _), Timeout);
            Assert.True(long.Parse(counter, System.Globalization.CultureInfo.InvariantCulture) >= 1);
            Assert.Equal("https:", await browser.EvaluateUntilAsync("location.protocol", _ => true, Timeout));
            await serve.WaitForStdoutAsync(l => l.Contains("\"type\":\"open\"", StringComparison.Ordinal), Timeout);
        }
    }

    [Fact]
    public async Task Sighup_NewConnectionsGetTheReloadedCertificate_ABadReloadKeepsIt()
    {
        using var pki = TestPki.Create();
        var first = pki.ServerFingerprint;
        var (serve, port) = await WsctlProcess.StartServeAsync(
            "--tls-cert", pki.ChainFile, "--tls-key", pki.KeyFile, "--echo", "--no-counter", "--json");
        using (serve)
        {
            await StartCertificateAsync(serve);
            Assert.Equal(first, await ServerTlsTests.PresentedFingerprintAsync(port));
            using var open = new ClientWebSocket();
            open.Options.RemoteCertificateValidationCallback =
                (_, c, chain, errors) => pki.Validates(c, chain, errors);
            using var cts = new CancellationTokenSource(Timeout);
            await open.ConnectAsync(new Uri($"wss://localhost:{port}/"), cts.Token);

            // A renewal: new files, then SIGHUP.
            pki.IssueServerCertificate();
            var second = pki.ServerFingerprint;
            serve.Signal("HUP");
            await serve.WaitForStderrAsync(ReloadedLine(), Timeout);
            Assert.Equal(second, await ServerTlsTests.PresentedFingerprintAsync(port));
            var reloaded = Parse(await serve.WaitForStdoutAsync(
                l => l.Contains("\"reason\":\"reload\"", StringComparison.Ordinal), Timeout));
            Assert.Equal(second, reloaded.GetProperty("fingerprint_sha256").GetString());
            // The connection opened before keeps working on its certificate.
            await open.SendAsync("still open"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
            var buffer = new byte[64];
            var reply = await open.ReceiveAsync(buffer, cts.Token);
            Assert.Equal("still open", Encoding.UTF8.GetString(buffer, 0, reply.Count));

            // A key that does not load: one warning line, and the certificate stays.
            await File.WriteAllTextAsync(pki.KeyFile, "not a key\n");
            serve.Signal("HUP");
            var kept = await serve.WaitForStderrAsync(NotReloadedLine(), Timeout);
            Assert.Contains($"still serving SHA-256 {second}", kept);
            Assert.Contains(pki.KeyFile, kept);
            Assert.Equal(second, await ServerTlsTests.PresentedFingerprintAsync(port));
            Assert.False(serve.HasExited);
        }
    }

    [Fact]
    public async Task StalledTlsHellos_BeyondThePendingLimit_DoNotStopARealClient()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--tls-self-signed", "--max-pending", "2",
            "--no-counter", "--json");
        using (serve)
        {
            var fingerprint = (await StartCertificateAsync(serve)).GetProperty("fingerprint_sha256").GetString()!;
            var stalled = new List<Socket>();
            try
            {
                for (var i = 0; i < 8; i++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    stalled.Add(socket);
                    await socket.ConnectAsync(IPAddress.Loopback, port);
                    // Half say nothing, half send the start of a ClientHello record and stop.
                    if (i % 2 == 1)
                        await socket.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 }, SocketFlags.None);
                }
                var send = await WsctlProcess.RunAsync(
                    ["send", $"wss://127.0.0.1:{port}/", "past the stall", "--pin", fingerprint]);
                Assert.True(send.ExitCode == 0, send.All);
                await serve.WaitForStdoutAsync(
                    l => l.Contains("\"data\":\"past the stall\"", StringComparison.Ordinal), Timeout);
            }
            finally
            {
                stalled.ForEach(s => s.Dispose());
            }
        }
    }

    [Theory]
    [InlineData(new[] { "serve", "--tls-cert", "x.pem" }, "--tls-cert needs --tls-key")]
    [InlineData(new[] { "serve", "--tls-key", "x.key" }, "--tls-key applies to --tls-cert; give both")]
    [InlineData(new[] { "serve", "--tls-self-signed", "--tls-cert", "x.pem", "--tls-key", "x.key" },
        "--tls-self-signed and --tls-cert exclude each other")]
    [InlineData(new[] { "send", "wss://127.0.0.1:1/", "x", "--pin", "abc" }, "--pin: expected a SHA-256 fingerprint")]
    [InlineData(new[] { "send", "wss://127.0.0.1:1/", "x", "-k", "--pin", Pin }, "--pin and --insecure exclude")]
    [InlineData(new[] { "send", "ws://127.0.0.1:1/", "x", "--pin", Pin },
        "--pin: a certificate pin needs a wss:// target")]
    [InlineData(new[] { "broadcast", "x", "--pin", Pin }, "--pin applies to --to and --discover targets")]
    public async Task TlsOptions_Misused_UsageErrorSayingWhy(string[] args, string expected)
    {
        var result = await WsctlProcess.RunAsync(args, timeout: Timeout);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
    }

    [Fact]
    public async Task CertificateFiles_KeyOfAnotherCertificate_Exit1NamingTheKeyOption()
    {
        using var pki = TestPki.Create();
        var otherKey = Path.Combine(Path.GetDirectoryName(pki.KeyFile)!, "other.key");
        File.Copy(pki.KeyFile, otherKey);
        pki.IssueServerCertificate();
        var result = await WsctlProcess.RunAsync(
            ["serve", "--port", "0", "--tls-cert", pki.ChainFile, "--tls-key", otherKey], timeout: Timeout);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"wsctl: --tls-key: {otherKey} holds no ECDSA private key of the certificate in",
            result.Stderr);
        Assert.DoesNotContain("listening", result.Stderr);
    }

    private const string Pin = "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB";

    private static async Task<JsonElement> StartCertificateAsync(WsctlProcess serve) =>
        Parse(await serve.WaitForStdoutAsync(
            l => l.Contains("\"type\":\"tls_certificate\"", StringComparison.Ordinal), Timeout));

    private static JsonElement Parse(string line) => JsonDocument.Parse(line).RootElement.Clone();

    private static async Task<(int Exit, string Stdout, string Stderr)> RunPythonAsync(string script,
        params string[] args)
    {
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var python = Process.Start(info)!;
        using var cts = new CancellationTokenSource(Timeout);
        var stdout = python.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = python.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await python.WaitForExitAsync(cts.Token);
        }
        finally
        {
            if (!python.HasExited)
                python.Kill();
        }
        return (python.ExitCode, await stdout, await stderr);
    }

    [GeneratedRegex("TLS certificate reloaded from")]
    private static partial Regex ReloadedLine();

    [GeneratedRegex("TLS certificate not reloaded")]
    private static partial Regex NotReloadedLine();
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using WsCore.Tests.Support;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;
using WsCore.WebSockets.Tls;

namespace WsCore.Tests.WebSockets;

/// <summary>
/// TLS in WsCore: certificates from PEM files and made at start, fingerprints and pins, and the server with
/// <see cref="WebSocketServerOptions.Tls"/> against our client, a plain request and stalled TLS hellos.
/// </summary>
public class ServerTlsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("3F:A0:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE")]
    [InlineData("3fa0112233445566778899aabbccddeeff00112233445566778899aabbccddee")]
    [InlineData("  3fA0:1122:33445566778899aabbccddeeff00112233445566778899aabbccddee ")]
    public void CertificatePin_HexWithOrWithoutColonsInAnyCase_ReadsAsOneFingerprint(string text)
    {
        Assert.True(CertificatePin.TryParse(text, out var pin));
        Assert.Equal(
            "3F:A0:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE",
            pin.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("3F:A0")] // too short
    [InlineData("3fa0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")] // SHA-256 plus a byte
    [InlineData("zza0112233445566778899aabbccddeeff00112233445566778899aabbccddee")] // not hex
    public void CertificatePin_NotASha256Fingerprint_IsInvalidInputOfThePin(string text)
    {
        Assert.False(CertificatePin.TryParse(text, out _));
        var error = Assert.Throws<WsCoreException>(() => CertificatePin.Parse(text));
        Assert.Equal(FailureKind.InvalidInput, error.Kind);
        Assert.Equal(InputField.CertificatePin, error.Field);
    }

    [Fact]
    public void Fingerprint_IsTheSha256OfTheDerEncoding_AsOpensslWritesIt()
    {
        using var pki = TestPki.Create();
        var expected = string.Join(":", SHA256.HashData(pki.Server.RawData).Select(b => b.ToString("X2")));
        Assert.Equal(expected, CertificateFingerprint.Sha256(pki.Server));
        Assert.True(CertificatePin.Parse(expected.ToLowerInvariant()).Matches(pki.Server));
        Assert.False(CertificatePin.Parse(CertificateFingerprint.Sha256(pki.Root)).Matches(pki.Server));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadPem_ChainAndKey_LoadsTheFirstCertificateWithItsKeyAndNames(bool rsa)
    {
        using var pki = TestPki.Create();
        pki.IssueServerCertificate(rsa);
        var loaded = ServerCertificate.LoadPem(pki.ChainFile, pki.KeyFile);
        Assert.True(loaded.Certificate.HasPrivateKey);
        Assert.False(loaded.SelfSigned);
        Assert.Equal(pki.ServerFingerprint, loaded.Fingerprint);
        Assert.Equal(["localhost", "127.0.0.1", "::1"], loaded.Names);
    }

    [Fact]
    public void LoadPem_FilesThatCannotServe_FailWithTheFileAtFault()
    {
        using var pki = TestPki.Create();
        var directory = Path.GetDirectoryName(pki.ChainFile)!;
        var missing = Path.Combine(directory, "missing.pem");
        AssertInvalid(InputField.TlsCertificate, "cannot read", () => ServerCertificate.LoadPem(missing, pki.KeyFile));
        AssertInvalid(InputField.TlsKey, "cannot read", () => ServerCertificate.LoadPem(pki.ChainFile, missing));
        // The key given as the certificate: no certificate in it.
        AssertInvalid(InputField.TlsCertificate, "holds no PEM certificate",
            () => ServerCertificate.LoadPem(pki.KeyFile, pki.KeyFile));

        // Another certificate's key.
        var otherKey = Path.Combine(directory, "other.key");
        using (var other = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            File.WriteAllText(otherKey, other.ExportPkcs8PrivateKeyPem());
        AssertInvalid(InputField.TlsKey, "holds no ECDSA private key of the certificate",
            () => ServerCertificate.LoadPem(pki.ChainFile, otherKey));

        // An encrypted key: serve has no passphrase to give.
        var encrypted = Path.Combine(directory, "encrypted.key");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var pbe = new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1000);
            File.WriteAllText(encrypted, key.ExportEncryptedPkcs8PrivateKeyPem("secret", pbe));
        }
        AssertInvalid(InputField.TlsKey, "encrypted", () => ServerCertificate.LoadPem(pki.ChainFile, encrypted));
    }

    [Fact]
    public void CreateSelfSigned_EcdsaP256ForTheNamesGiven_ValidForTheStatedPeriod()
    {
        var before = DateTimeOffset.UtcNow;
        var made = ServerCertificate.CreateSelfSigned(
            ["localhost", "benchhost", "BenchHost", "benchhost.local"],
            [IPAddress.Loopback, IPAddress.IPv6Loopback, IPAddress.Parse("192.0.2.7")]);
        Assert.True(made.SelfSigned);
        Assert.Equal(
            ["localhost", "benchhost", "benchhost.local", "127.0.0.1", "::1", "192.0.2.7"], made.Names);
        using var key = made.Certificate.GetECDsaPrivateKey();
        Assert.Equal(256, key!.KeySize);
        Assert.True(made.NotBefore <= before, "valid from before it was made");
        Assert.InRange(made.NotAfter - before, ServerCertificate.SelfSignedValidity - TimeSpan.FromMinutes(1),
            ServerCertificate.SelfSignedValidity + TimeSpan.FromMinutes(1));
        Assert.Equal(CertificateFingerprint.Sha256(made.Certificate), made.Fingerprint);
        // A leaf: no authority of its own.
        var constraints = made.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.False(constraints.CertificateAuthority);
    }

    [Fact]
    public async Task TlsServer_ClientWithThePin_Echoes_AWrongPinFailsNamingBothFingerprints()
    {
        var certificate = SelfSigned();
        await using var server = TestServer.Start(echo: true, o => o.Tls = new ServerTls(certificate));
        var uri = new Uri($"wss://127.0.0.1:{server.Port}/");

        await using (var client = await WebSocketClient.ConnectAsync(uri,
            new WebSocketClientOptions { CertificatePin = CertificatePin.Parse(certificate.Fingerprint) }))
        {
            await client.SendTextAsync("over tls");
            using var reply = await client.ReceiveAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal("over tls", reply!.GetText());
            Assert.True(client.Timings.Tls > TimeSpan.Zero);
            await client.CloseAsync(CloseStatus.NormalClosure, "");
        }

        var wrong = CertificatePin.Parse(new string('0', 64));
        var error = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(uri,
            new WebSocketClientOptions { CertificatePin = wrong }));
        Assert.Equal(FailureKind.Tls, error.Kind);
        Assert.Contains(certificate.Fingerprint, error.Message);
        Assert.Contains(wrong.ToString(), error.Message);
        Assert.Equal(InputField.CertificatePin, error.HintField);

        // Without a pin, the system does not trust it, and says which certificate it saw.
        var untrusted = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(uri));
        Assert.Equal(FailureKind.Tls, untrusted.Kind);
        Assert.Contains("not trusted", untrusted.Message);
        Assert.Contains(certificate.Fingerprint, untrusted.Message);

        // A pin with ws:// would be a promise of authentication that nothing keeps.
        var plain = await Assert.ThrowsAsync<WsCoreException>(() => WebSocketClient.ConnectAsync(
            new Uri($"ws://127.0.0.1:{server.Port}/"),
            new WebSocketClientOptions { CertificatePin = CertificatePin.Parse(certificate.Fingerprint) }));
        Assert.Equal(InputField.CertificatePin, plain.Field);
    }

    [Fact]
    public async Task TlsServer_PlainRequest_GetsAPlain400SayingItSpeaksTls()
    {
        await using var server = TestServer.Start(echo: true, o => o.Tls = new ServerTls(SelfSigned()));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), SocketFlags.None);
        var answer = await ReadToEndAsync(socket);
        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer);
        Assert.EndsWith("\r\n\r\nthis server speaks TLS: use wss:// or https://\n", answer);

        // Through our client: the handshake is rejected with that text (exit 5 in the CLI).
        var error = await Assert.ThrowsAnyAsync<WsCoreException>(() =>
            WebSocketClient.ConnectAsync(new Uri($"ws://127.0.0.1:{server.Port}/")));
        Assert.Equal(FailureKind.HandshakeRejected, error.Kind);
        Assert.Contains("400 Bad Request: this server speaks TLS: use wss:// or https://", error.Message);
    }

    [Fact]
    public async Task TlsServer_StalledHellos_BoundedByPendingLimit_ARealClientStillGetsIn()
    {
        var certificate = SelfSigned();
        await using var server = TestServer.Start(echo: true, o =>
        {
            o.Tls = new ServerTls(certificate);
            o.MaxPendingHandshakes = 4;
            o.RequestHeadTimeout = TimeSpan.FromSeconds(60); // the stall outlives the test: only the bound helps
        });
        var stalled = new List<Socket>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                stalled.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, server.Port);
                // Half of them say nothing; the others half a ClientHello (a record header announcing more).
                if (i % 2 == 1)
                    await socket.SendAsync(HalfClientHello, SocketFlags.None);
            }
            await WaitUntilAsync(() => server.Server.PendingHandshakesEvicted >= 20 - 4);

            await using var client = await WebSocketClient.ConnectAsync(new Uri($"wss://127.0.0.1:{server.Port}/"),
                new WebSocketClientOptions { CertificatePin = CertificatePin.Parse(certificate.Fingerprint) });
            await client.SendTextAsync("still served");
            using var reply = await client.ReceiveAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal("still served", reply!.GetText());
            // The oldest were closed to make room.
            Assert.Equal("", await ReadToEndAsync(stalled[0]));
        }
        finally
        {
            stalled.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task TlsServer_StalledHello_ClosedAtTheRequestHeadDeadline()
    {
        await using var server = TestServer.Start(echo: true, o =>
        {
            o.Tls = new ServerTls(SelfSigned());
            o.RequestHeadTimeout = TimeSpan.FromMilliseconds(300);
        });
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(IPAddress.Loopback, server.Port);
        using var half = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await half.ConnectAsync(IPAddress.Loopback, server.Port);
        await half.SendAsync(HalfClientHello, SocketFlags.None);
        // Both are closed by the server (no answer: there is no TLS yet to answer in); the wait is only a bound.
        Assert.Equal("", await ReadToEndAsync(silent));
        Assert.Equal("", await ReadToEndAsync(half));
    }

    [Fact]
    public async Task TlsServer_PageOverHttps_NegotiatesHttp11ByAlpn()
    {
        var certificate = SelfSigned();
        await using var server = TestServer.Start(echo: true, o => o.Tls = new ServerTls(certificate));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = (_, presented, _, _) =>
                presented is not null && CertificatePin.Parse(certificate.Fingerprint).Matches(presented),
        }).WaitAsync(Timeout);
        Assert.Equal(SslApplicationProtocol.Http11, tls.NegotiatedApplicationProtocol);
        await tls.WriteAsync("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"u8.ToArray());
        using var reader = new StreamReader(tls, Encoding.ASCII);
        using var cts = new CancellationTokenSource(Timeout);
        var answer = await reader.ReadToEndAsync(cts.Token);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
        Assert.EndsWith("<p>test</p>", answer);
    }

    [Fact]
    public async Task ServerTls_CertificateReplaced_NewConnectionsGetTheNewOne()
    {
        var first = SelfSigned();
        var tls = new ServerTls(first);
        await using var server = TestServer.Start(echo: true, o => o.Tls = tls);
        Assert.Equal(first.Fingerprint, await PresentedFingerprintAsync(server.Port));
        var second = SelfSigned();
        tls.Certificate = second;
        Assert.Equal(second.Fingerprint, await PresentedFingerprintAsync(server.Port));
    }

    /// <summary>The certificate a TLS server on <paramref name="port"/> presents, by its fingerprint.</summary>
    public static async Task<string> PresentedFingerprintAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream());
        string? seen = null;
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, presented, _, _) =>
            {
                seen = presented is null ? null : CertificateFingerprint.Sha256(presented);
                return true;
            },
        }).WaitAsync(Timeout);
        return seen!;
    }

    // A TLS handshake record header announcing 512 bytes, and the first few of them (RFC 8446 §5.1, §4.1.2).
    private static readonly byte[] HalfClientHello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03];

    private static ServerCertificate SelfSigned() =>
        ServerCertificate.CreateSelfSigned(["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback]);

    private static void AssertInvalid(InputField field, string text, Action load)
    {
        var error = Assert.Throws<WsCoreException>(load);
        Assert.Equal(FailureKind.InvalidInput, error.Kind);
        Assert.Equal(field, error.Field);
        Assert.Contains(text, error.Message);
    }

    // Everything until the server closes (empty when it closes without a word); a reset counts as closed.
    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
                received.Write(buffer, 0, read);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        return Encoding.ASCII.GetString(received.ToArray());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (!condition())
            await Task.Delay(20, cts.Token);
    }
}

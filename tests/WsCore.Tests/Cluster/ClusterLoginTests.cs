using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Cluster;

/// <summary>
/// <c>serve --cluster</c> against a Redis that asks for a password (requirepass) or speaks only TLS: the password
/// from REDISCLI_AUTH or the URL, a refused login and an untrusted certificate as one-line errors, and the password in
/// no output.
/// </summary>
public class ClusterLoginTests
{
    private const string Password = "correct horse battery";
    private static readonly TimeSpan Timeout = ClusterLab.Timeout;

    [Fact]
    public async Task Serve_PasswordFromRediscliAuth_InstancesJoinAndBroadcastCrosses()
    {
        await using var redis = await RedisServer.StartNewAsync(new RedisServerOptions(Password));
        var name = "login" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string> { ["REDISCLI_AUTH"] = Password };
        var (first, _) = await WsctlProcess.StartServeAsync(environment, 0, "--no-counter", "--cluster", redis.Url,
            "--cluster-name", name);
        using var firstProcess = first;
        var (second, port) = await WsctlProcess.StartServeAsync(environment, 0, "--no-counter", "--cluster",
            redis.Url, "--cluster-name", name);
        using var secondProcess = second;
        await first.WaitForStderrAsync(ClusterLab.JoinedPattern(), Timeout);
        var joined = await second.WaitForStderrAsync(ClusterLab.JoinedPattern(), Timeout);
        await using var client = await CollectingClient.ConnectAsync(port);
        await first.StandardInput.WriteLineAsync("through an authenticated Redis");
        await first.StandardInput.FlushAsync();
        Assert.Equal("through an authenticated Redis", await client.NextAsync());
        Assert.Contains(redis.Url, joined);
        Assert.DoesNotContain(Password, first.Stderr + second.Stderr + first.Stdout + second.Stdout);
    }

    [Fact]
    public async Task Serve_NoPassword_LoginRefusedExit4OneLine()
    {
        await using var redis = await RedisServer.StartNewAsync(new RedisServerOptions(Password));
        var result = await WsctlProcess.RunAsync(["serve", "--port", "0", "--cluster", redis.Url], timeout: Timeout);
        Assert.Equal(4, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"wsctl: --cluster: the cluster's Redis at {redis.Url} refused the login (it asks for a " +
            "password; none was given)", lines[0]);
        Assert.StartsWith("hint: give the password Redis expects", lines[1]);
        Assert.Equal(2, lines.Length);
    }

    [Fact]
    public async Task Serve_ClusterOptionalWrongPassword_StillRefusedNotServedAlone()
    {
        // --cluster-optional waits out a Redis that is down, not one that refuses the login: that never passes.
        await using var redis = await RedisServer.StartNewAsync(new RedisServerOptions(Password));
        var result = await WsctlProcess.RunAsync(["serve", "--port", "0", "--cluster", redis.Url,
            "--cluster-optional"], environment: new Dictionary<string, string> { ["REDISCLI_AUTH"] = "wrong" },
            timeout: Timeout);
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("refused the login (wrong user or password)", result.Stderr);
        Assert.DoesNotContain("listening", result.Stderr);
    }

    [Fact]
    public async Task Serve_WrongPasswordInUrl_LoginRefusedWithoutThePassword()
    {
        await using var redis = await RedisServer.StartNewAsync(new RedisServerOptions(Password));
        var url = $"redis://:not-the-password@127.0.0.1:{redis.Port}/0";
        var result = await WsctlProcess.RunAsync(["serve", "--port", "0", "--cluster", url], timeout: Timeout);
        Assert.Equal(4, result.ExitCode);
        Assert.StartsWith($"wsctl: --cluster: the cluster's Redis at redis://127.0.0.1:{redis.Port}/0 refused the " +
            "login (wrong user or password)", result.Stderr);
        Assert.DoesNotContain("not-the-password", result.All);
        Assert.DoesNotContain("   at ", result.All);
    }

    [Fact]
    public async Task Serve_Rediss_JoinsWhenTheCertificateIsTrustedAndExits8WhenNot()
    {
        using var files = TestCertificates.Create();
        await using var redis = await RedisServer.StartNewAsync(
            new RedisServerOptions(Password, new RedisTlsFiles(files.CertificateFile, files.KeyFile)));
        var url = redis.Url;
        Assert.StartsWith("rediss://localhost:", url);
        var login = new Dictionary<string, string> { ["REDISCLI_AUTH"] = Password };

        var untrusted = await WsctlProcess.RunAsync(["serve", "--port", "0", "--cluster", url],
            environment: login, timeout: Timeout);
        Assert.Equal(8, untrusted.ExitCode);
        Assert.StartsWith($"wsctl: --cluster: TLS with the cluster's Redis at {url} failed: ", untrusted.Stderr);
        Assert.Contains("hint: the server's certificate must be", untrusted.Stderr);

        // OpenSSL's SSL_CERT_FILE, which .NET reads on Linux, names the test's own root as the trusted one.
        using var trusted = WsctlProcess.Start(["serve", "--port", "0", "--no-counter", "--cluster", url],
            new Dictionary<string, string>(login) { ["SSL_CERT_FILE"] = files.AuthorityFile });
        var joined = await trusted.WaitForStderrAsync(ClusterLab.JoinedPattern(), Timeout);
        Assert.Contains(url, joined);
        Assert.Equal("1", (await redis.CliAsync("--tls", "--cacert", files.AuthorityFile, "-h", "localhost",
            "ZCARD", "wsctl:{wsctl}:instances")).Trim());
    }

    /// <summary>A test root and a server certificate it signed for localhost and 127.0.0.1, as PEM files.</summary>
    private sealed class TestCertificates : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("wsctl-redis-tls-").FullName;

        public string AuthorityFile => Path.Combine(_directory, "ca.pem");

        public string CertificateFile => Path.Combine(_directory, "server.pem");

        public string KeyFile => Path.Combine(_directory, "server.key");

        public static TestCertificates Create()
        {
            var files = new TestCertificates();
            var from = DateTimeOffset.UtcNow.AddHours(-1);
            var until = DateTimeOffset.UtcNow.AddDays(1);
            using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var authorityRequest = new CertificateRequest("CN=wsctl test root", authorityKey, HashAlgorithmName.SHA256);
            authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            authorityRequest.CertificateExtensions.Add(
                new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            using var authority = authorityRequest.CreateSelfSigned(from, until);

            using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                [new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
            using var server = request.Create(authority, from, until, RandomNumberGenerator.GetBytes(8));

            File.WriteAllText(files.AuthorityFile, authority.ExportCertificatePem());
            File.WriteAllText(files.CertificateFile, server.ExportCertificatePem());
            File.WriteAllText(files.KeyFile, serverKey.ExportPkcs8PrivateKeyPem());
            return files;
        }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}

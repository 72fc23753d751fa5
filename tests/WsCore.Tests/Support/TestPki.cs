using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using WsCore.WebSockets.Tls;

namespace WsCore.Tests.Support;

/// <summary>
/// A throw-away public key infrastructure for TLS tests, as PEM files in a temporary directory: a root, an
/// intermediate the root signed, and a server certificate the intermediate signed for localhost, 127.0.0.1 and ::1.
/// The chain file holds the server certificate and then the intermediate (what certbot calls fullchain.pem), so a
/// client that trusts only the root can verify the server only if the server sends the intermediate. Made with .NET's
/// <see cref="CertificateRequest"/>; nothing is added to any system store.
/// </summary>
public sealed class TestPki : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("wsctl-tls-");
    private readonly X509Certificate2 _intermediate;
    private readonly ECDsa _intermediateKey;

    private TestPki()
    {
        var (from, until) = Validity();
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=wsctl test root", rootKey, HashAlgorithmName.SHA256);
        AddAuthorityExtensions(rootRequest);
        Root = rootRequest.CreateSelfSigned(from, until);

        _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest(
            "CN=wsctl test intermediate", _intermediateKey, HashAlgorithmName.SHA256);
        AddAuthorityExtensions(intermediateRequest);
        intermediateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(
            Root, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var intermediate = intermediateRequest.Create(Root, from, until, RandomNumberGenerator.GetBytes(8));
        _intermediate = intermediate.CopyWithPrivateKey(_intermediateKey);
        File.WriteAllText(RootFile, Root.ExportCertificatePem());
        Server = IssueServerCertificate();
    }

    /// <summary>The root: the one certificate a client is told to trust.</summary>
    public X509Certificate2 Root { get; }

    /// <summary>The server certificate now in <see cref="ChainFile"/> (without its key).</summary>
    public X509Certificate2 Server { get; private set; }

    /// <summary>The server certificate's SHA-256 fingerprint, as serve prints it.</summary>
    public string ServerFingerprint => CertificateFingerprint.Sha256(Server);

    /// <summary>The hash of the server certificate's public key, as Chromium's SPKI list takes it.</summary>
    public string ServerSpki => CertificateFingerprint.SpkiSha256(Server);

    public string RootFile => Path.Combine(_directory.FullName, "root.pem");

    public string ChainFile => Path.Combine(_directory.FullName, "fullchain.pem");

    public string KeyFile => Path.Combine(_directory.FullName, "privkey.pem");

    public static TestPki Create() => new();

    /// <summary>
    /// A new server certificate (and a new key) written over <see cref="ChainFile"/> and <see cref="KeyFile"/>, as a
    /// renewal does; returns the certificate.
    /// </summary>
    public X509Certificate2 IssueServerCertificate(bool rsa = false)
    {
        var (from, until) = Validity();
        using AsymmetricAlgorithm key = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = key is RSA rsaKey
            ? new CertificateRequest("CN=localhost", rsaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=localhost", (ECDsa)key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(
            _intermediate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        // Signed with the intermediate's ECDSA key whatever the server's own key is.
        var server = request.Create(_intermediate.SubjectName, X509SignatureGenerator.CreateForECDsa(_intermediateKey),
            from, until, RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(ChainFile, server.ExportCertificatePem() + "\n" + _intermediate.ExportCertificatePem());
        File.WriteAllText(KeyFile, key.ExportPkcs8PrivateKeyPem());
        Server = server;
        return server;
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to <see cref="Root"/> through what the server sent, for a client
    /// (ClientWebSocket, HttpClient) whose validation callback trusts the test root and nothing else.
    /// </summary>
    public bool Validates(X509Certificate? certificate, X509Chain? chain, System.Net.Security.SslPolicyErrors errors)
    {
        if (certificate is null || chain is null
            || errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch))
            return false;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Clear();
        chain.ChainPolicy.CustomTrustStore.Add(Root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2
            ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    public void Dispose()
    {
        _intermediateKey.Dispose();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (DateTimeOffset From, DateTimeOffset Until) Validity() =>
        (DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));

    private static void AddAuthorityExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }
}

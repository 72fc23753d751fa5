using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WsCore.WebSockets.Tls;

/// <summary>
/// A server's certificate with its private key and the chain sent with it, ready for TLS: loaded from PEM files (a
/// certificate chain file and a key file, as nginx, Caddy and certbot keep them) or made at start (self-signed).
/// Immutable; a reload makes a new one (<see cref="ServerTls.Certificate"/>).
/// </summary>
public sealed class ServerCertificate
{
    /// <summary>How long a certificate from <see cref="CreateSelfSigned"/> is valid, from its creation.</summary>
    public static readonly TimeSpan SelfSignedValidity = TimeSpan.FromDays(30);

    // A self-signed certificate is dated back this far, so a peer whose clock is a little behind still finds it valid.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromHours(1);

    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    // Public key algorithms (RFC 3279 §2.3.1, RFC 5480 §2.1.1).
    private const string RsaAlgorithm = "1.2.840.113549.1.1.1";
    private const string EcAlgorithm = "1.2.840.10045.2.1";

    private ServerCertificate(X509Certificate2 certificate, X509Certificate2Collection intermediates, bool selfSigned)
    {
        Certificate = certificate;
        SelfSigned = selfSigned;
        // Offline: the chain is built from what was given, never fetched (a LAN server may have no Internet).
        Context = SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
        Fingerprint = CertificateFingerprint.Sha256(certificate);
        SpkiSha256 = CertificateFingerprint.SpkiSha256(certificate);
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension alternativeNames)
            {
                names.AddRange(alternativeNames.EnumerateDnsNames());
                names.AddRange(alternativeNames.EnumerateIPAddresses().Select(a => a.ToString()));
            }
        }
        // Without subject alternative names, the subject's common name is all there is (clients that still look).
        if (names.Count == 0)
            names.Add(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
        Names = names;
    }

    /// <summary>The certificate sent to clients, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>True when made by <see cref="CreateSelfSigned"/>.</summary>
    public bool SelfSigned { get; }

    /// <summary>The SHA-256 fingerprint a client pins (<see cref="CertificatePin"/>).</summary>
    public string Fingerprint { get; }

    /// <summary>The SHA-256 hash of the public key, base64 (<see cref="CertificateFingerprint.SpkiSha256"/>).</summary>
    public string SpkiSha256 { get; }

    /// <summary>
    /// The DNS names and IP addresses the certificate is for: its subject alternative names, or its subject's common
    /// name when it has none.
    /// </summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>When the certificate becomes valid.</summary>
    public DateTimeOffset NotBefore => new(Certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);

    /// <summary>When the certificate expires.</summary>
    public DateTimeOffset NotAfter => new(Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    /// <summary>What SslStream sends: the certificate, its key and the intermediates.</summary>
    internal SslStreamCertificateContext Context { get; }

    /// <summary>
    /// Loads a certificate from PEM files. <paramref name="certificateFile"/> holds the server's certificate first,
    /// then any intermediates (a "full chain" file); <paramref name="keyFile"/> holds its unencrypted RSA or ECDSA
    /// private key (PKCS#8, PKCS#1 or SEC1). Throws <see cref="WsCoreException"/> (InvalidInput, with
    /// <see cref="InputField.TlsCertificate"/> or <see cref="InputField.TlsKey"/>) saying what is wrong with which.
    /// </summary>
    public static ServerCertificate LoadPem(string certificateFile, string keyFile)
    {
        var certificatePem = ReadText(certificateFile, InputField.TlsCertificate);
        var keyPem = ReadText(keyFile, InputField.TlsKey);
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(certificatePem);
        }
        catch (CryptographicException e)
        {
            throw WsCoreException.Invalid(InputField.TlsCertificate,
                $"{certificateFile}: a certificate in it cannot be read ({e.Message.TrimEnd('.')})");
        }
        if (chain.Count == 0)
            throw WsCoreException.Invalid(InputField.TlsCertificate,
                $"{certificateFile} holds no PEM certificate",
                "PEM is text with a BEGIN CERTIFICATE line; openssl x509 -inform der -in FILE converts a DER file");
        var leaf = chain[0];
        var algorithm = leaf.PublicKey.Oid.Value;
        if (algorithm is not (RsaAlgorithm or EcAlgorithm))
            throw WsCoreException.Invalid(InputField.TlsCertificate,
                $"{certificateFile}: the certificate's key is neither RSA nor ECDSA " +
                $"({leaf.PublicKey.Oid.FriendlyName ?? algorithm})");
        // PKCS#8's encrypted form, or OpenSSL's older encrypted PKCS#1/SEC1 (a Proc-Type header).
        if (HasPemLabel(keyPem, "ENCRYPTED PRIVATE KEY") || keyPem.Contains("4,ENCRYPTED", StringComparison.Ordinal))
            throw WsCoreException.Invalid(InputField.TlsKey, $"{keyFile}: the private key is encrypted",
                "decrypt it into a file only the server's user can read: openssl pkey -in FILE -out PLAIN.key");
        X509Certificate2 certificate;
        try
        {
            // The first certificate of the file, with the key of the matching algorithm from the key file.
            certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            if (Matches(leaf, keyPem))
                throw WsCoreException.Invalid(InputField.TlsKey,
                    $"{keyFile}: the private key cannot be read ({e.Message.TrimEnd('.')})");
            throw WsCoreException.Invalid(InputField.TlsKey,
                $"{keyFile} holds no {(algorithm == RsaAlgorithm ? "RSA" : "ECDSA")} private key of the certificate " +
                $"in {certificateFile}",
                "the key file must be the one made with that certificate (certbot: privkey.pem beside fullchain.pem)");
        }
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++)
            intermediates.Add(chain[i]);
        return new ServerCertificate(UsableBySslStream(certificate), intermediates, selfSigned: false);
    }

    /// <summary>
    /// Makes a self-signed certificate (ECDSA P-256) for <paramref name="dnsNames"/> and <paramref name="addresses"/>,
    /// valid for <see cref="SelfSignedValidity"/> from now (dated back an hour for peers whose clocks lag). Its key
    /// exists only in this process: a new one is made each time.
    /// </summary>
    public static ServerCertificate CreateSelfSigned(IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses)
    {
        var names = dnsNames.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var alternativeNames = new SubjectAlternativeNameBuilder();
        var added = new List<string>();
        foreach (var name in names)
        {
            try
            {
                alternativeNames.AddDnsName(name);
                added.Add(name);
            }
            catch (ArgumentException)
            {
                // A host name that is no valid DNS name (an underscore, say) cannot be in the certificate.
            }
        }
        foreach (var address in addresses.Distinct())
            alternativeNames.AddIpAddress(address);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(added.FirstOrDefault(n => !n.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            ?? "localhost");
        subject.AddOrganizationName("wsctl serve (self-signed)");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        // A leaf for TLS servers (RFC 5280 §4.2.1.3, §4.2.1.9, §4.2.1.12), with key identifiers: OpenSSL's strict mode
        // (Python 3.13's default) wants them even on a self-signed certificate.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuthentication], critical: false));
        request.CertificateExtensions.Add(alternativeNames.Build());
        var keyIdentifier = new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false);
        request.CertificateExtensions.Add(keyIdentifier);
        request.CertificateExtensions.Add(
            X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(keyIdentifier));
        var now = DateTimeOffset.UtcNow;
        var certificate = request.CreateSelfSigned(now - ClockSkew, now + SelfSignedValidity);
        return new ServerCertificate(UsableBySslStream(certificate), [], selfSigned: true);
    }

    // Windows' TLS (SChannel) cannot use a key that lives only in memory, as CreateFromPem and CreateSelfSigned make
    // them; a round trip through PKCS#12 stores it. OpenSSL (Linux, macOS) uses it as it is.
    private static X509Certificate2 UsableBySslStream(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows())
            return certificate;
        using (certificate)
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static string ReadText(string path, InputField field)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WsCoreException.Invalid(field, $"cannot read {path}: {FileProblem.Describe(path, e)}");
        }
    }

    private static bool HasPemLabel(string pem, string label)
    {
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (rest[fields.Label].SequenceEqual(label))
                return true;
            rest = rest[fields.Location.End..];
        }
        return false;
    }

    // Whether the key file holds some private key of the certificate's algorithm that fits it: then a failure is the
    // key's form, not the wrong key.
    private static bool Matches(X509Certificate2 certificate, string keyPem)
    {
        try
        {
            using AsymmetricAlgorithm key =
                certificate.PublicKey.Oid.Value == RsaAlgorithm ? RSA.Create() : ECDsa.Create();
            key.ImportFromPem(keyPem);
            return key.ExportSubjectPublicKeyInfo().AsSpan()
                .SequenceEqual(certificate.PublicKey.ExportSubjectPublicKeyInfo());
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }
}

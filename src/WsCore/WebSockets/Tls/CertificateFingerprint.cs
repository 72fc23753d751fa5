using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WsCore.WebSockets.Tls;

/// <summary>
/// The SHA-256 fingerprint of a certificate: the hash of its whole DER encoding, written as
/// <c>openssl x509 -fingerprint -sha256</c> writes it (upper-case hex pairs joined by colons). It names exactly one
/// certificate, whoever issued it: what a user compares, and what a client pins.
/// </summary>
public static class CertificateFingerprint
{
    /// <summary>The fingerprint of <paramref name="certificate"/>, e.g. <c>3F:A0:…:9C</c> (95 characters).</summary>
    public static string Sha256(X509Certificate certificate) =>
        Format(certificate.GetCertHash(HashAlgorithmName.SHA256));

    /// <summary>
    /// The SHA-256 hash of the certificate's public key (its DER SubjectPublicKeyInfo), in base64: what Chromium's
    /// <c>ignore-certificate-errors-spki-list</c> switch and HTTP public key pinning (RFC 7469 §2.4) take. It stays the
    /// same when a certificate is reissued for the same key.
    /// </summary>
    public static string SpkiSha256(X509Certificate2 certificate) =>
        Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>Upper-case hex pairs joined by colons.</summary>
    public static string Format(ReadOnlySpan<byte> hash)
    {
        if (hash.IsEmpty)
            return "";
        var hex = Convert.ToHexString(hash);
        var text = new char[hash.Length * 3 - 1];
        for (var i = 0; i < hash.Length; i++)
        {
            text[i * 3] = hex[i * 2];
            text[i * 3 + 1] = hex[i * 2 + 1];
            if (i < hash.Length - 1)
                text[i * 3 + 2] = ':';
        }
        return new string(text);
    }
}

/// <summary>
/// A client's trust in exactly one server certificate, named by its SHA-256 fingerprint
/// (<see cref="CertificateFingerprint"/>): a certificate with that fingerprint is accepted whatever its chain, name
/// or dates say (the way an SSH client trusts a host key it was given), and any other is refused. For a device or a
/// <c>serve</c> with a self-signed certificate, it is the safe alternative to accepting any certificate.
/// </summary>
public sealed class CertificatePin
{
    private const int HashBytes = 32;
    private readonly byte[] _hash;

    private CertificatePin(byte[] hash) => _hash = hash;

    /// <summary>
    /// Reads a fingerprint: 64 hex digits, in either case, with or without colons between the pairs (as
    /// <c>openssl</c>, browsers and <c>wsctl serve</c> print it). Throws <see cref="WsCoreException"/>
    /// (InvalidInput, <see cref="InputField.CertificatePin"/>) for anything else.
    /// </summary>
    public static CertificatePin Parse(string text) =>
        TryParse(text, out var pin)
            ? pin
            : throw WsCoreException.Invalid(InputField.CertificatePin,
                $"expected a SHA-256 fingerprint (64 hex digits, colons allowed), got '{Shorten(text)}'",
                "the fingerprint is in serve's startup log; openssl x509 -noout -fingerprint -sha256 prints one");

    /// <summary>As <see cref="Parse"/>, without throwing.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out CertificatePin? pin)
    {
        pin = null;
        if (text is null)
            return false;
        var digits = text.Trim().Replace(":", "", StringComparison.Ordinal);
        if (digits.Length != HashBytes * 2 || !digits.All(Uri.IsHexDigit))
            return false;
        pin = new CertificatePin(Convert.FromHexString(digits));
        return true;
    }

    /// <summary>Whether <paramref name="certificate"/> is the pinned one.</summary>
    public bool Matches(X509Certificate certificate) =>
        certificate.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(_hash);

    /// <summary>The fingerprint as <see cref="CertificateFingerprint.Format"/> writes it.</summary>
    public override string ToString() => CertificateFingerprint.Format(_hash);

    private static string Shorten(string text) => text.Length > 100 ? text[..97] + "..." : text;
}

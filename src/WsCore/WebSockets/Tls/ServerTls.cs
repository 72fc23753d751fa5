using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace WsCore.WebSockets.Tls;

/// <summary>
/// TLS for a <see cref="Server.WebSocketServer"/> (<c>wss://</c>, and <c>https://</c> for its page): the certificate
/// it presents, which may be replaced while the server runs (a renewed certificate, reloaded on SIGHUP): connections
/// accepted afterwards use the new one, those already open keep theirs.
/// </summary>
/// <remarks>Thread-safety: <see cref="Certificate"/> may be read and replaced from any thread.</remarks>
public sealed class ServerTls
{
    // Built once per certificate, not per connection: SslStream copies what it needs when a handshake starts.
    private volatile SslServerAuthenticationOptions _authentication;
    private volatile ServerCertificate _certificate;

    /// <summary>TLS with <paramref name="certificate"/>.</summary>
    public ServerTls(ServerCertificate certificate)
    {
        _certificate = certificate;
        _authentication = AuthenticationFor(certificate);
    }

    /// <summary>The certificate presented to connections accepted from now on.</summary>
    public ServerCertificate Certificate
    {
        get => _certificate;
        set
        {
            _authentication = AuthenticationFor(value);
            _certificate = value;
        }
    }

    /// <summary>The settings of the next TLS handshake.</summary>
    internal SslServerAuthenticationOptions Authentication => _authentication;

    private static SslServerAuthenticationOptions AuthenticationFor(ServerCertificate certificate) => new()
    {
        ServerCertificateContext = certificate.Context,
        // ALPN (RFC 7301 §3.2): the page, /status and the WebSocket upgrade (RFC 6455 §4.1) are all HTTP/1.1, so a
        // browser that offers h2 as well is told http/1.1.
        ApplicationProtocols = [SslApplicationProtocol.Http11],
        ClientCertificateRequired = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        // Renegotiation (TLS 1.2) would let a client make the server redo the expensive half of a handshake at will.
        AllowRenegotiation = false,
    };
}

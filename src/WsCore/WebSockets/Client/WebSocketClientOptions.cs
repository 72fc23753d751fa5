using System.Net;
using Serilog;
using WsCore.WebSockets.Tls;

namespace WsCore.WebSockets.Client;

/// <summary>
/// Settings of <see cref="WebSocketClient.ConnectAsync(Uri, WebSocketClientOptions?, CancellationToken)"/>.
/// </summary>
public sealed class WebSocketClientOptions
{
    /// <summary>Subprotocols to offer, most preferred first.</summary>
    public IReadOnlyList<string> Subprotocols { get; set; } = [];

    /// <summary>An <c>Origin</c> header, as a browser would send (some servers check it); null sends none.</summary>
    public string? Origin { get; set; }

    /// <summary>Further request headers (name, value), e.g. an <c>Authorization</c> header.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; set; } = [];

    /// <summary>Time allowed for name resolution, TCP connect, TLS and the opening handshake together.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long <see cref="WebSocketClient.CloseAsync"/> waits for the server's side of the close handshake.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest message accepted from the server; a larger one fails the connection with 1009.</summary>
    public int MaxMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// How many received messages may wait for <see cref="WebSocketClient.ReceiveAsync"/> before reading pauses (or,
    /// with <see cref="DropUnreadMessages"/>, before the oldest is dropped).
    /// </summary>
    public int ReceiveQueueCapacity { get; set; } = 256;

    /// <summary>
    /// When the receive queue is full, drop its oldest message instead of pausing the reading: for a client that
    /// only sends (and may never call ReceiveAsync), so that pings are still answered and the server's close still
    /// seen however much the server pushes. Dropped messages are counted in
    /// <see cref="WebSocketClient.MessagesDropped"/>.
    /// </summary>
    public bool DropUnreadMessages { get; set; }

    /// <summary>
    /// For <c>wss://</c>: accept any server certificate (self-signed device certificates). Off by default.
    /// </summary>
    public bool AllowUntrustedCertificate { get; set; }

    /// <summary>
    /// For <c>wss://</c>: trust exactly the server certificate with this SHA-256 fingerprint, whatever its chain, name
    /// or dates, and no other (a device's or a <c>serve</c>'s self-signed certificate, without accepting any). Null
    /// (the default) uses the system's trust. A pin with a <c>ws://</c> URL is refused.
    /// </summary>
    public CertificatePin? CertificatePin { get; set; }

    /// <summary>
    /// Resolves a host name to addresses in place of the system resolver (e.g. mDNS for <c>NAME.local</c> on machines
    /// without nss-mdns); null uses the system resolver. Not called for address literals. The request's
    /// <c>Host</c> header stays the name. Its token is cancelled at <see cref="ConnectTimeout"/>; a resolve cut off
    /// by it is reported as <see cref="FailureKind.NameNotResolved"/>.
    /// </summary>
    public Func<string, CancellationToken, Task<IPAddress[]>>? Resolve { get; set; }

    /// <summary>
    /// Offer permessage-deflate (RFC 7692): when the server accepts, whole messages sent with
    /// <see cref="WebSocketClient.SendAsync"/> are compressed and compressed messages from the server inflated
    /// (never beyond <see cref="MaxMessageBytes"/>). Needs the system zlib (libz.so.1). Off by default.
    /// </summary>
    public bool Compression { get; set; }

    /// <summary>Where the client logs.</summary>
    public ILogger Logger { get; set; } = Serilog.Core.Logger.None;
}

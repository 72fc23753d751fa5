using System.Net;
using Serilog;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Tls;

namespace WsCore.WebSockets.Server;

/// <summary>A page served for a plain HTTP GET (no Upgrade).</summary>
/// <param name="ContentType">E.g. <c>text/html; charset=utf-8</c>.</param>
/// <param name="Body">The bytes sent.</param>
public sealed record HttpPage(string ContentType, ReadOnlyMemory<byte> Body);

/// <summary>
/// Handles one complete message on the thread that received it, before the next frame of that client is read: the
/// payload is only valid during the call. Must not block: it holds up that client's receive loop (and, with inline
/// socket completions, others). <see cref="WebSocketServer.Send"/> may be called from it.
/// </summary>
/// <param name="server">The server that received it.</param>
/// <param name="clientId">The sender.</param>
/// <param name="type">Text (valid UTF-8) or binary.</param>
/// <param name="payload">The message's bytes, valid until the handler returns.</param>
public delegate void MessageHandler(WebSocketServer server, int clientId, MessageType type, ReadOnlySpan<byte> payload);

/// <summary>Settings of a <see cref="WebSocketServer"/>. Defaults follow the ESP32 firmware it mirrors.</summary>
public sealed class WebSocketServerOptions
{
    /// <summary>
    /// The address to listen on. Null (the default) or <see cref="IPAddress.IPv6Any"/> means every interface, IPv4
    /// and IPv6, through one dual-mode socket (IPv4 only where the host has no IPv6). <see cref="IPAddress.Any"/>
    /// or a specific address binds just that.
    /// </summary>
    public IPAddress? BindAddress { get; set; }

    /// <summary>TCP port; 0 lets the OS pick a free one (see <see cref="WebSocketServer.LocalEndPoint"/>).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>
    /// The most WebSocket clients at once (the firmware's MAX_OPEN_WS_NR, 5). One more gets
    /// <c>503 Service Unavailable</c> with <c>Retry-After</c>, and nobody else notices.
    /// </summary>
    public int MaxClients { get; set; } = 5;

    /// <summary>The largest message accepted, summed over fragments; larger ones close the client with 1009.</summary>
    public int MaxMessageBytes { get; set; } = 65_536;

    /// <summary>
    /// A client silent this long gets a Ping; one still silent after a second interval is dropped (close code 1006
    /// in its event). <see cref="TimeSpan.Zero"/> turns keep-alive off.
    /// </summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long to wait for the peer's side of a close handshake (and for a lingering close) before aborting.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a new connection has for its whole opening handshake (head received, answer written).
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a new connection has to send its whole request head: short, because a client sends it at once
    /// and a connection that does not is holding a pending slot (<see cref="MaxPendingHandshakes"/>). With
    /// <see cref="Tls"/>, the TLS handshake counts against it too.
    /// </summary>
    public TimeSpan RequestHeadTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Most connections in their handshake at once; one more closes the oldest of them. Bounds what a flood of
    /// half-open connections costs (sockets, buffers) without refusing the real clients that arrive meanwhile.
    /// </summary>
    public int MaxPendingHandshakes { get; set; } = 64;

    /// <summary>
    /// Which browser pages may open a WebSocket (the <c>Origin</c> header, RFC 6455 §10.2), or null to accept
    /// any. Without a check, any web page the user visits can connect to a server on localhost.
    /// </summary>
    public OriginPolicy? Origins { get; set; }

    /// <summary>
    /// Null (the default) for plain <c>ws://</c> and <c>http://</c>; otherwise every connection starts with a TLS
    /// handshake with this certificate (<c>wss://</c>, <c>https://</c>). A connection whose first byte cannot begin a
    /// TLS handshake (a plain request) is answered <c>400</c> in plain HTTP, saying the server speaks TLS.
    /// </summary>
    public ServerTls? Tls { get; set; }

    /// <summary>The largest request head accepted (431 beyond).</summary>
    public int MaxRequestHeadBytes { get; set; } = 8192;

    /// <summary>
    /// Bytes of encoded frames allowed to wait in one client's outgoing queue behind a write under way. A client
    /// that falls further behind (it stopped reading) is closed with 1008 and counted in the logs, so it never grows
    /// memory or stalls others. A frame that finds the queue empty is always sent, whatever its size. At least one
    /// frame of <see cref="MaxMessageBytes"/> plus its header; <see cref="QueueBoundFor"/> gives a default.
    /// </summary>
    public int MaxQueuedBytesPerClient { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// A queue bound for a message limit: 4 MiB, or two of the largest frames, whichever is more, so that a largest
    /// message can always wait behind another one (a relay while the client is still receiving the last).
    /// </summary>
    public static int QueueBoundFor(int maxMessageBytes) =>
        (int)Math.Min(int.MaxValue, Math.Max(4L * 1024 * 1024, 2L * (maxMessageBytes + MaxFrameHeaderBytes)));

    /// <summary>The longest frame header a server sends (RFC 6455 §5.2: 2 + 8 bytes of length, no mask).</summary>
    private const int MaxFrameHeaderBytes = 10;

    /// <summary>
    /// How many received events may wait for the consumer of <see cref="WebSocketServer.Events"/>. When full, the
    /// receive loops pause (TCP pushes back on the clients): read the events.
    /// </summary>
    public int EventQueueCapacity { get; set; } = 1024;

    /// <summary>
    /// Called for every received message on the receiving thread (see <see cref="MessageHandler"/>), e.g. to echo or
    /// relay it. It saves the hop through <see cref="WebSocketServer.Events"/> and, with
    /// <see cref="PublishMessageEvents"/> off, allocates nothing per message. A handler that throws closes that client
    /// with 1011 (internal error); the server keeps serving the others.
    /// </summary>
    public MessageHandler? MessageHandler { get; set; }

    /// <summary>
    /// True (the default) to deliver each message as a <see cref="MessageReceived"/> event as well. Turn it off when
    /// <see cref="MessageHandler"/> does all there is to do with messages; connects and disconnects are still events.
    /// </summary>
    public bool PublishMessageEvents { get; set; } = true;

    /// <summary>
    /// Accept permessage-deflate (RFC 7692) when a client offers it: messages to and from that client are then
    /// compressed (its offer's window and context-takeover parameters honoured). Off by default, as in the firmware,
    /// which does not compress: a compressing connection costs about 300 KB of zlib memory while it compresses in both
    /// directions (see the README), an idle one none. Needs the system zlib (libz.so.1).
    /// </summary>
    public bool Compression { get; set; }

    /// <summary>Subprotocols the server speaks, most preferred first.</summary>
    public IReadOnlyList<string> Subprotocols { get; set; } = [];

    /// <summary>
    /// Answers plain GET requests: the request path in, a page or null (404) out. Null (the default) answers
    /// every plain request with 404.
    /// </summary>
    public Func<HttpRequestHead, HttpPage?>? PageHandler { get; set; }

    /// <summary>
    /// Where client ids come from, or null for 1, 2, 3… A cluster gives ids unique across its instances. Called under
    /// the server's client lock: it must be quick and must not call back into the server. 0 means no id can be given
    /// now (a cluster instance whose reserved ids ran out while its store cannot reserve more): the client is refused
    /// with 503 and Retry-After.
    /// </summary>
    public Func<int>? ClientIds { get; set; }

    /// <summary>
    /// A second limit on clients beyond <see cref="MaxClients"/> (a cluster-wide one), asked before a client is
    /// registered; null for none.
    /// </summary>
    public IClientAdmission? Admission { get; set; }

    /// <summary>Where the server logs (never to the console by itself).</summary>
    public ILogger Logger { get; set; } = Serilog.Core.Logger.None;

    internal void Validate()
    {
        if (Port is < 0 or > 65535)
            throw new WsCoreException(FailureKind.InvalidInput, $"port {Port} is not a TCP port");
        if (MaxClients < 1)
            throw new WsCoreException(FailureKind.InvalidInput, "the client limit must be at least 1");
        if (MaxMessageBytes < 1)
            throw new WsCoreException(FailureKind.InvalidInput, "the message size limit must be at least 1 byte");
        if (PingInterval < TimeSpan.Zero || CloseTimeout <= TimeSpan.Zero || HandshakeTimeout <= TimeSpan.Zero)
            throw new WsCoreException(FailureKind.InvalidInput, "timeouts must be positive");
        if (MaxPendingHandshakes < 1)
            throw new WsCoreException(FailureKind.InvalidInput, "the pending-handshake limit must be at least 1");
        if (RequestHeadTimeout <= TimeSpan.Zero)
            throw new WsCoreException(FailureKind.InvalidInput, "timeouts must be positive");
        if (Compression && !PerMessageDeflate.IsSupported)
            throw new WsCoreException(FailureKind.InvalidInput, "compression needs the system zlib (libz.so.1)",
                "install it (Debian: apt-get install zlib1g) or leave compression off");
        if (MaxQueuedBytesPerClient < 1024)
            throw new WsCoreException(FailureKind.InvalidInput, "the per-client queue must hold at least 1 KiB");
        if ((long)MaxQueuedBytesPerClient < (long)MaxMessageBytes + MaxFrameHeaderBytes)
            throw new WsCoreException(FailureKind.InvalidInput,
                $"the per-client queue ({MaxQueuedBytesPerClient} bytes) cannot hold one message of the largest size " +
                $"({MaxMessageBytes} bytes): such a message could be received but never sent on",
                "raise the queue bound to at least the message limit plus 10 bytes (QueueBoundFor gives one)");
    }
}

/// <summary>
/// A limit on clients that the server asks before registering one (see <see cref="WebSocketServerOptions.Admission"/>).
/// </summary>
public interface IClientAdmission
{
    /// <summary>Takes a slot for a new client; false refuses it with 503.</summary>
    ValueTask<bool> TryAdmitAsync();

    /// <summary>Gives back a slot taken by <see cref="TryAdmitAsync"/> (its client closed, or was not
    /// registered).</summary>
    void Release();

    /// <summary>The body of the 503 answer when <see cref="TryAdmitAsync"/> refused.</summary>
    string RefusalText { get; }
}

using System.Net;
using WsCore.WebSockets.Protocol;

namespace WsCore.WebSockets.Server;

/// <summary>
/// Something that happened on a <see cref="WebSocketServer"/>, read from <see cref="WebSocketServer.Events"/>. For
/// any one client the order is: <see cref="ClientConnected"/>, its <see cref="MessageReceived"/>s, then
/// <see cref="ClientDisconnected"/>.
/// </summary>
public abstract class ServerEvent
{
    private protected ServerEvent(int clientId, IPEndPoint remoteEndPoint)
    {
        ClientId = clientId;
        RemoteEndPoint = remoteEndPoint;
        Timestamp = DateTimeOffset.UtcNow;
    }

    /// <summary>The client's id: small integers from 1, never reused while the server runs.</summary>
    public int ClientId { get; }

    /// <summary>The client's address and port (IPv4-mapped IPv6 addresses are shown as IPv4).</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>When it happened (UTC).</summary>
    public DateTimeOffset Timestamp { get; }
}

/// <summary>A client completed the opening handshake.</summary>
public sealed class ClientConnected : ServerEvent
{
    internal ClientConnected(int clientId, IPEndPoint remote, string path, string? subprotocol)
        : base(clientId, remote)
    {
        Path = path;
        Subprotocol = subprotocol;
    }

    /// <summary>The request target of the handshake, e.g. <c>/</c>.</summary>
    public string Path { get; }

    /// <summary>The negotiated subprotocol, or null.</summary>
    public string? Subprotocol { get; }
}

/// <summary>
/// A complete message from a client (the counterpart of an entry of the firmware's <c>ws_get_recv_queue()</c>).
/// The payload lives in a pooled buffer: dispose the event (or its <see cref="Message"/>) when done with it (not
/// disposing is safe, only slower).
/// </summary>
public sealed class MessageReceived : ServerEvent, IDisposable
{
    internal MessageReceived(int clientId, IPEndPoint remote, WebSocketMessage message)
        : base(clientId, remote) => Message = message;

    /// <summary>The message: its type and payload (valid until disposed).</summary>
    public WebSocketMessage Message { get; }

    /// <summary>Returns the payload's buffer to the pool.</summary>
    public void Dispose() => Message.Dispose();
}

/// <summary>A client's connection ended.</summary>
public sealed class ClientDisconnected : ServerEvent
{
    internal ClientDisconnected(
        int clientId, IPEndPoint remote, ushort closeCode, string closeReason, bool initiatedByServer)
        : base(clientId, remote)
    {
        CloseCode = closeCode;
        CloseReason = closeReason;
        InitiatedByServer = initiatedByServer;
    }

    /// <summary>
    /// The close code: the client's when it closed, the server's when the server closed (1001 shutdown, 1002/1007/1009
    /// protocol errors, 1008 too slow), or 1006 when the TCP connection ended without a Close frame.
    /// </summary>
    public ushort CloseCode { get; }

    /// <summary>The close reason, possibly empty.</summary>
    public string CloseReason { get; }

    /// <summary>True when the server started the close.</summary>
    public bool InitiatedByServer { get; }
}

/// <summary>A connected client as <see cref="WebSocketServer.GetClients"/> reports it.</summary>
/// <param name="Id">The client id (as in <see cref="ClientConnected"/>).</param>
/// <param name="RemoteEndPoint">The client's address and port.</param>
/// <param name="ConnectedAt">When its TCP connection was accepted.</param>
/// <param name="MessagesIn">Data messages received from it.</param>
/// <param name="MessagesOut">Data messages queued to it.</param>
public sealed record ClientInfo(
    int Id, IPEndPoint RemoteEndPoint, DateTimeOffset ConnectedAt, long MessagesIn, long MessagesOut);

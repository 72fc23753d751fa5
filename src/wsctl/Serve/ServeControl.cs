using WsCore.Control;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace Wsctl.Serve;

/// <summary>Answers <c>wsctl broadcast</c> and <c>wsctl send --client</c> through serve's control socket.</summary>
public sealed class ServeControl(WebSocketServer server) : IControlHandler
{
    public ValueTask<int> BroadcastAsync(ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel) =>
        ValueTask.FromResult(server.Send(WebSocketServer.AllClients, binary ? MessageType.Binary : MessageType.Text, payload.Span));

    public ValueTask<bool> SendAsync(int clientId, ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel) =>
        ValueTask.FromResult(clientId > 0 && server.Send(clientId, binary ? MessageType.Binary : MessageType.Text, payload.Span) > 0);

    public IReadOnlyList<ControlClientInfo> ListClients() => server.GetClients()
        .Select(c => new ControlClientInfo(c.Id, c.RemoteEndPoint.ToString(), c.ConnectedAt, c.MessagesIn, c.MessagesOut))
        .ToList();
}

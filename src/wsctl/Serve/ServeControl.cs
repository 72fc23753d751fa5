using WsCore.Cluster;
using WsCore.Control;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace Wsctl.Serve;

/// <summary>
/// Answers <c>wsctl broadcast</c> and <c>wsctl send --client</c> through serve's control socket; in a cluster
/// (<paramref name="cluster"/> not null) for every client of every instance.
/// </summary>
public sealed class ServeControl(WebSocketServer server, ClusterNode? cluster = null) : IControlHandler
{
    public async ValueTask<int> BroadcastAsync(ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel) =>
        cluster is not null
            ? await cluster.BroadcastCountedAsync(Type(binary), payload)
            : server.Send(WebSocketServer.AllClients, Type(binary), payload.Span);

    public async ValueTask<bool> SendAsync(int clientId, ReadOnlyMemory<byte> payload, bool binary,
        CancellationToken cancel) =>
        cluster is not null
            ? await cluster.SendAsync(clientId, Type(binary), payload)
            : clientId > 0 && server.Send(clientId, Type(binary), payload.Span) > 0;

    public IReadOnlyList<ControlClientInfo> ListClients() => [.. server.GetClients()
        .Select(c => new ControlClientInfo(c.Id, c.RemoteEndPoint.ToString(), c.ConnectedAt, c.MessagesIn,
            c.MessagesOut, cluster?.Instance))];

    public async ValueTask<IReadOnlyList<ControlClientInfo>> ListClientsAsync(CancellationToken cancel) =>
        cluster is null
            ? ListClients()
            : [.. (await cluster.ListAsync())
            .Select(c => new ControlClientInfo(c.Id, c.Remote, c.ConnectedSince, c.MessagesIn, c.MessagesOut,
                c.Instance))];

    private static MessageType Type(bool binary) => binary ? MessageType.Binary : MessageType.Text;
}

using Serilog;
using WsCore.Cluster;
using WsCore.WebSockets.Server;

namespace Wsctl.Serve;

/// <summary>Wires serve's settings to a <see cref="ClusterNode"/>: the engine does the rest.</summary>
public static class ServeCluster
{
    /// <summary>
    /// Connects to the cluster's Redis (a ConnectionFailed error when it does not answer, unless
    /// <see cref="ClusterSettings.Optional"/>), and lets the node give the server's client ids, count its clients and
    /// relay its messages.
    /// </summary>
    public static async Task<ClusterNode> ConnectAsync(ClusterSettings cluster, ServeSettings settings,
        WebSocketServerOptions server, ILogger log)
    {
        var node = await ClusterNode.ConnectAsync(new ClusterOptions
        {
            Address = cluster.Address,
            Name = cluster.Name,
            MaxClients = cluster.MaxClients,
            Optional = cluster.Optional,
            Lease = cluster.Lease,
            CounterInterval = settings.CounterInterval,
            CounterText = ServeSession.CounterMessage,
            Logger = log,
        });
        server.ClientIds = node.NextClientId;
        server.Admission = node;
        if (settings.Relay)
            server.MessageHandler = node.Relay;
        return node;
    }
}

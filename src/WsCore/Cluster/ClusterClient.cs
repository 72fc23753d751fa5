using System.Buffers.Binary;
using System.Text;
using WsCore.WebSockets.Protocol;

namespace WsCore.Cluster;

/// <summary>A client of some instance, as the cluster-wide client list shows it.</summary>
/// <param name="Id">The cluster-wide client id.</param>
/// <param name="Instance">The instance the client is connected to.</param>
/// <param name="Remote">The client's address and port.</param>
/// <param name="ConnectedSince">When it connected (UTC, millisecond precision on the wire).</param>
/// <param name="MessagesIn">Data messages received from it.</param>
/// <param name="MessagesOut">Data messages queued to it.</param>
public sealed record ClusterClient(int Id, string Instance, string Remote, DateTimeOffset ConnectedSince,
    long MessagesIn, long MessagesOut);

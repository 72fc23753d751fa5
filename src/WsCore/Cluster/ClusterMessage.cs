using System.Buffers.Binary;
using System.Text;
using WsCore.WebSockets.Protocol;

namespace WsCore.Cluster;

/// <summary>What a message between cluster instances carries.</summary>
public enum ClusterMessageKind : byte
{
    /// <summary>A message for every client of every instance (stdin, control broadcast, relay).</summary>
    Broadcast = 1,
    /// <summary>The next value of the cluster's counter sequence, from the instance holding the lease.</summary>
    Counter = 2,
    /// <summary>A question to every other instance (list your clients; send to client N if it is yours).</summary>
    Request = 3,
    /// <summary>One instance's answer to a <see cref="Request"/>, sent to the asking instance only.</summary>
    Reply = 4,
}

/// <summary>What a <see cref="ClusterMessageKind.Request"/> asks.</summary>
public enum ClusterRequestOperation : byte
{
    /// <summary>List your clients.</summary>
    List = 1,
    /// <summary>Send the payload to the client with this id, if it is yours.</summary>
    Send = 2,
}

/// <summary>
/// One message between instances, in the form <see cref="ClusterCodec"/> encodes. Which fields mean something depends
/// on <see cref="Kind"/>: Broadcast uses Type and Payload; Counter uses Counter; Request uses RequestId, Operation,
/// ClientId, Type and Payload; Reply uses RequestId, Ok and Clients.
/// </summary>
public sealed record ClusterMessage(ClusterMessageKind Kind, string Origin)
{
    public MessageType Type { get; init; } = MessageType.Text;
    public ReadOnlyMemory<byte> Payload { get; init; }
    public long Counter { get; init; }
    public long RequestId { get; init; }
    public ClusterRequestOperation Operation { get; init; } = ClusterRequestOperation.List;
    public int ClientId { get; init; }
    public bool Ok { get; init; }
    public IReadOnlyList<ClusterClient> Clients { get; init; } = [];
}

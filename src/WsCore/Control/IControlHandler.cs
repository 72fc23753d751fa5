using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Serilog;

namespace WsCore.Control;

/// <summary>What a running server does for control requests (implemented by <c>wsctl serve</c>).</summary>
public interface IControlHandler
{
    /// <summary>Queues a message to every client; returns how many clients it was queued to.</summary>
    ValueTask<int> BroadcastAsync(ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel);

    /// <summary>Queues a message to one client; false when no client has that id.</summary>
    ValueTask<bool> SendAsync(int clientId, ReadOnlyMemory<byte> payload, bool binary, CancellationToken cancel);

    /// <summary>The connected clients, by id.</summary>
    IReadOnlyList<ControlClientInfo> ListClients();

    /// <summary>The connected clients, by id, when finding them takes a while (a cluster asks its other
    /// instances).</summary>
    ValueTask<IReadOnlyList<ControlClientInfo>> ListClientsAsync(CancellationToken cancel) =>
        ValueTask.FromResult(ListClients());
}

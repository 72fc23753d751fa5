using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Serilog;

namespace WsCore.Control;

/// <summary>Sends requests to a running server's control socket.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class ControlClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;

    private ControlClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream);
    }

    /// <summary>
    /// Connects to the control socket of the server on <paramref name="port"/> in this network namespace: its own
    /// namespace's socket when there is one, else the plain one when the server behind it is in this namespace
    /// (<see cref="ControlSocketPath"/>).
    /// </summary>
    /// <exception cref="WsCoreException">No server of this namespace owns that socket (ConnectionFailed).</exception>
    public static async Task<ControlClient> ConnectAsync(int port, CancellationToken cancel, string? path = null)
    {
        var own = path is null ? ControlSocketPath.OwnNetworkNamespace() : null;
        if (path is null && own is not null && File.Exists(ControlSocketPath.ForNamespace(port, own)))
            path = ControlSocketPath.ForNamespace(port, own);
        path ??= ControlSocketPath.For(port);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel);
            if (own is not null && ControlSocketPath.PeerNetworkNamespace(socket) is { } theirs && theirs != own)
            {
                socket.Dispose();
                throw new WsCoreException(FailureKind.ConnectionFailed,
                    $"no server is running on port {port} in this network namespace (the one at {path} serves " +
                    "another namespace)", "start one on that port here, or give the port of the running one")
                { Field = InputField.ServePort };
            }
            return new ControlClient(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            // The front end knows how a server is started: the hint only says what to change.
            throw new WsCoreException(FailureKind.ConnectionFailed,
                $"no server is running on port {port} for this user (nothing at {path})",
                "start one on that port, or give the port of the running one", e)
            { Field = InputField.ServePort };
        }
    }

    /// <summary>Sends one request and waits for its answer.</summary>
    public async Task<ControlResponse> RequestAsync(ControlRequest request, CancellationToken cancel)
    {
        await _stream.WriteAsync(ControlProtocol.EncodeRequest(request), cancel);
        while (true)
        {
            var result = await _reader.ReadAsync(cancel);
            var buffer = result.Buffer;
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is { } end)
            {
                var response = ControlProtocol.DecodeResponse(buffer.Slice(0, end).ToArray());
                _reader.AdvanceTo(buffer.GetPosition(1, end));
                return response;
            }
            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                throw new WsCoreException(
                    FailureKind.ConnectionEnded, "the server closed the control connection without answering");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync();
        await _stream.DisposeAsync();
        _socket.Dispose();
    }
}

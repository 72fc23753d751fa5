using System.Net;
using System.Net.Sockets;

namespace WsCore.Tests.Ota;

/// <summary>
/// A loopback TCP relay for one connection that pulls the cable: it forwards both ways until
/// <see cref="_cutAfter"/> bytes have gone from the client to the server, then resets both sides (RST: no close
/// frame, no orderly FIN), as a link that drops in the middle of an upload.
/// </summary>
public sealed class CuttingProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _serverPort;
    private readonly long _cutAfter;
    private readonly TaskCompletionSource<long> _cut = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CuttingProxy(int serverPort, long cutAfter)
    {
        _serverPort = serverPort;
        _cutAfter = cutAfter;
        _listener.Start();
        _ = RelayAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Completes with the bytes forwarded to the server when the connection was cut.</summary>
    public Task<long> Cut => _cut.Task;

    public void Dispose() => _listener.Dispose();

    private async Task RelayAsync()
    {
        try
        {
            using var client = await _listener.AcceptSocketAsync();
            using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(IPAddress.Loopback, _serverPort);
            using var done = new CancellationTokenSource();
            var back = PumpAsync(server, client, long.MaxValue, done.Token);
            var forwarded = await PumpAsync(client, server, _cutAfter, done.Token);
            foreach (var socket in (Socket[])[client, server])
            {
                socket.LingerState = new LingerOption(true, 0); // close → RST
                socket.Close();
            }
            await done.CancelAsync();
            await Task.WhenAny(back);
            _cut.TrySetResult(forwarded);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _cut.TrySetException(e);
        }
    }

    /// <summary>Copies from <paramref name="from"/> to <paramref name="to"/> until <paramref name="limit"/> bytes,
    /// the end of <paramref name="from"/>, or an error; returns the bytes copied.</summary>
    private static async Task<long> PumpAsync(Socket from, Socket to, long limit, CancellationToken cancel)
    {
        var buffer = new byte[16 * 1024];
        long copied = 0;
        try
        {
            while (copied < limit)
            {
                var n = await from.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - copied)),
                    cancel);
                if (n == 0)
                    break;
                await to.SendAsync(buffer.AsMemory(0, n), cancel);
                copied += n;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        return copied;
    }
}

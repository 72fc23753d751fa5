using System.Net;
using System.Net.Sockets;

namespace WsCore.Tests.Esp;

/// <summary>
/// A TCP proxy between the flasher and a ROM loader (the simulator, or the real ROM in QEMU) that loses one answer
/// on the line: the <paramref name="which"/>th response to <paramref name="op"/> never reaches the host, although
/// the loader acted on the request. Requests pass untouched; responses are split at SLIP frame ends (0xC0).
/// </summary>
public sealed class ReplyDroppingProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly byte _op;
    private readonly int _which;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private int _seen;

    public ReplyDroppingProxy(string upstreamHost, int upstreamPort, byte op, int which)
    {
        (_upstreamHost, _upstreamPort, _op, _which) = (upstreamHost, upstreamPort, op, which);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _run = RunAsync();
    }

    public int Port { get; }
    public string Url => $"socket://127.0.0.1:{Port}";

    /// <summary>Whether the answer has been dropped yet.</summary>
    public bool Dropped => Volatile.Read(ref _seen) >= _which;

    private async Task RunAsync()
    {
        try
        {
            using var host = await _listener.AcceptTcpClientAsync(_stop.Token);
            using var device = new TcpClient();
            await device.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
            var up = host.GetStream().CopyToAsync(device.GetStream(), _stop.Token);
            var down = ForwardResponsesAsync(device.GetStream(), host.GetStream());
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException
            or ObjectDisposedException)
        {
        }
    }

    private async Task ForwardResponsesAsync(Stream from, Stream to)
    {
        var buffer = new byte[4096];
        var frame = new List<byte>();
        while (true)
        {
            var n = await from.ReadAsync(buffer, _stop.Token);
            if (n == 0)
                return;
            for (var i = 0; i < n; i++)
            {
                frame.Add(buffer[i]);
                if (buffer[i] != 0xC0 || frame.Count < 2)
                    continue;
                // A whole frame C0 01 OP ... C0: drop it if it is the chosen answer.
                var isChosen = frame.Count > 3 && frame[0] == 0xC0 && frame[1] == 0x01 && frame[2] == _op
                    && Interlocked.Increment(ref _seen) == _which;
                if (!isChosen)
                    await to.WriteAsync(frame.ToArray(), _stop.Token);
                frame.Clear();
            }
            if (frame.Count > 0 && frame[0] != 0xC0)
            {
                // Text outside frames (a boot log): pass it on as it comes.
                await to.WriteAsync(frame.ToArray(), _stop.Token);
                frame.Clear();
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _run.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}

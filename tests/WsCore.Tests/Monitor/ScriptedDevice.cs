using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WsCore.Tests.Monitor;

/// <summary>
/// A board's serial console over TCP on a free loopback port (wsctl's <c>socket://</c>): when wsctl connects it
/// sends <see cref="Script"/>, then keeps the connection open, collecting what wsctl sends (typed keys, stdin lines)
/// until disposed.
/// </summary>
public sealed class ScriptedDevice : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly StringBuilder _received = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NetworkStream? _stream;

    public ScriptedDevice(string script)
    {
        Script = script;
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>What the device prints once wsctl connects.</summary>
    public string Script { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Url => $"socket://127.0.0.1:{Port}";

    /// <summary>Everything wsctl has sent so far, as text.</summary>
    public string Received
    {
        get
        {
            lock (_received)
                return _received.ToString();
        }
    }

    /// <summary>
    /// Waits until what wsctl sent contains <paramref name="text"/>; false after <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> WaitForReceivedAsync(string text, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end)
        {
            if (Received.Contains(text, StringComparison.Ordinal))
                return true;
            await Task.Delay(20);
        }
        return Received.Contains(text, StringComparison.Ordinal);
    }

    /// <summary>Completes when wsctl has closed the connection it made.</summary>
    public Task Disconnected => _disconnected.Task;

    /// <summary>Prints more, as a running app does; false when wsctl is not (or no longer) connected.</summary>
    public async Task<bool> PushAsync(string text)
    {
        if (Volatile.Read(ref _stream) is not { } stream)
            return false;
        try
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text), _stop.Token);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException
            or OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        try
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.UTF8.GetBytes(Script), _stop.Token);
            Volatile.Write(ref _stream, stream);
            var buffer = new byte[1024];
            while (true)
            {
                var n = await stream.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    _disconnected.TrySetResult();
                    return;
                }
                lock (_received)
                    _received.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException
            or ObjectDisposedException)
        {
            // Stopped, or wsctl went away: the test reads what was received.
        }
    }
}

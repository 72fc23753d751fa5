using System.Net.Sockets;
using Serilog;

namespace WsCore.Esp;

/// <summary>
/// <c>socket://HOST:PORT</c>: the serial bytes over TCP (a remote serial server, or a simulator). There are no
/// modem lines, so resets are no-ops: esptool forces no-reset here too (docs/esp32-rom-protocol.md §5).
/// </summary>
public sealed class TcpSerialTransport : ISerialTransport
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private TcpSerialTransport(string name, TcpClient client)
    {
        Name = name;
        _client = client;
        _client.NoDelay = true;
        _stream = client.GetStream();
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static TcpSerialTransport Connect(string host, int port, ILogger? logger = null)
    {
        var client = new TcpClient();
        try
        {
            client.Connect(host, port);
        }
        catch (SocketException e)
        {
            client.Dispose();
            throw new WsCoreException(FailureKind.Device, $"socket://{host}:{port}: {e.Message}",
                "check that the serial server is running and the address is right", e);
        }
        (logger ?? Serilog.Core.Logger.None).Debug("Connected to socket://{Host}:{Port}", host, port);
        return new TcpSerialTransport($"socket://{host}:{port}", client);
    }

    /// <summary>Parses <c>socket://HOST:PORT</c>; false when <paramref name="url"/> is not of that form.</summary>
    public static bool TryParseUrl(string url, out string host, out int port)
    {
        host = "";
        port = 0;
        const string scheme = "socket://";
        if (!url.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return false;
        var rest = url[scheme.Length..].TrimEnd('/');
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out port) || port is < 1 or > 65535)
            return false;
        host = rest[..colon].Trim('[', ']');
        return true;
    }

    public string Name { get; }

    public bool CanControlLines => false;

    public void Write(ReadOnlySpan<byte> data)
    {
        try
        {
            _stream.Write(data);
        }
        catch (IOException e)
        {
            throw new WsCoreException(FailureKind.Device, $"{Name}: the connection ended ({e.Message})", null, e);
        }
    }

    public int Read(Span<byte> buffer, TimeSpan timeout)
    {
        try
        {
            if (!_client.Client.Poll(
                (int)Math.Clamp(timeout.TotalMicroseconds, 0, int.MaxValue), SelectMode.SelectRead))
                return 0;
            var n = _stream.Read(buffer);
            if (n == 0)
                throw new WsCoreException(FailureKind.Device, $"{Name}: the connection was closed by the other end");
            return n;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            throw new WsCoreException(FailureKind.Device, $"{Name}: the connection ended ({e.Message})", null, e);
        }
    }

    public void SetDtr(bool asserted) { }

    public void SetRts(bool asserted) { }

    public void SetBaudRate(int baud) { }

    public void DiscardInput()
    {
        Span<byte> sink = stackalloc byte[512];
        while (_client.Available > 0)
            _stream.ReadExactly(sink[..Math.Min(sink.Length, _client.Available)]);
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }
}

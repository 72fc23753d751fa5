using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Makaretu.Dns;
using Serilog;

namespace WsCore.Mdns;

/// <summary>A parsed mDNS message as it arrived: from whom, on which interface, over which address family.</summary>
/// <param name="Message">The message.</param>
/// <param name="Source">Its sender.</param>
/// <param name="Interface">The interface it arrived on (with the prefixes that say who is on its link).</param>
/// <param name="SentToGroup">True when it was sent to the mDNS group, false when to one of this host's addresses (a
/// unicast answer, or a direct unicast query, RFC 6762 §5.5).</param>
internal readonly record struct MdnsDatagram(
    Message Message, IPEndPoint Source, MdnsInterface Interface, bool SentToGroup = true);

/// <summary>
/// The sockets of mDNS (RFC 6762 §3, §11): one UDP socket per address family bound to port 5353 with address
/// reuse (so avahi or another responder on the same host keeps working), joined to 224.0.0.251 / ff02::fb on each
/// chosen interface, TTL/hop limit 255, multicast loopback on (a querier and a responder on one host see each
/// other). Outgoing messages go out on one interface at a time (IP_MULTICAST_IF / IPV6_MULTICAST_IF).
/// Received messages that parse, and arrived on a chosen interface, are written to <see cref="Received"/>.
/// </summary>
/// <remarks>
/// Thread-safety: sends may come from any thread (each socket's sends are serialised, because the outgoing
/// interface is a socket option set just before the send); <see cref="Received"/> may be read by one reader.
/// </remarks>
internal sealed class MdnsTransport : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly Socket? _v4;
    private readonly Socket? _v6;
    private readonly HashSet<int> _joinedV4 = [];
    private readonly HashSet<int> _joinedV6 = [];
    private readonly SemaphoreSlim _sendV4 = new(1, 1);
    private readonly SemaphoreSlim _sendV6 = new(1, 1);
    private readonly Channel<MdnsDatagram> _received = Channel.CreateBounded<MdnsDatagram>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _receiveLoops = [];

    private MdnsTransport(IReadOnlyList<MdnsInterface> interfaces, bool ipv4, bool ipv6, ILogger logger)
    {
        Interfaces = interfaces;
        _logger = logger;
        try
        {
            if (ipv4 && interfaces.Any(i => i.IPv4Addresses.Count > 0))
                _v4 = OpenSocket(AddressFamily.InterNetwork);
            if (ipv6 && interfaces.Any(i => i.IPv6Addresses.Count > 0))
                _v6 = OpenSocket(AddressFamily.InterNetworkV6);
            if (_v4 is null && _v6 is null)
                throw new WsCoreException(FailureKind.Other, "mDNS: no interface has an address of the wanted family");
            foreach (var iface in interfaces)
            {
                if (_v4 is not null && iface.IPv4Addresses.Count > 0)
                    Join(_v4, iface, _joinedV4);
                if (_v6 is not null && iface.IPv6Addresses.Count > 0)
                    Join(_v6, iface, _joinedV6);
            }
            if (_joinedV4.Count == 0 && _joinedV6.Count == 0)
                throw new WsCoreException(
                    FailureKind.Other, "mDNS: could not join the multicast group on any interface");
        }
        catch
        {
            _v4?.Dispose();
            _v6?.Dispose();
            throw;
        }
    }

    /// <summary>The interfaces this transport sends and receives on.</summary>
    public IReadOnlyList<MdnsInterface> Interfaces { get; }

    /// <summary>Messages received on a chosen interface, parsed. Completed when the transport is disposed.</summary>
    public ChannelReader<MdnsDatagram> Received => _received.Reader;

    /// <summary>Opens and binds the sockets, joins the groups and starts receiving.</summary>
    /// <exception cref="WsCoreException">Port 5353 cannot be bound or no group can be joined.</exception>
    public static MdnsTransport Open(IReadOnlyList<MdnsInterface> interfaces, bool ipv4, bool ipv6, ILogger logger)
    {
        var transport = new MdnsTransport(interfaces, ipv4, ipv6, logger);
        if (transport._v4 is not null)
            transport._receiveLoops.Add(Task.Run(() => transport.ReceiveLoopAsync(transport._v4)));
        if (transport._v6 is not null)
            transport._receiveLoops.Add(Task.Run(() => transport.ReceiveLoopAsync(transport._v6)));
        return transport;
    }

    /// <summary>
    /// Sends <paramref name="message"/> to the mDNS group on <paramref name="iface"/>, over IPv4 and/or IPv6 (each
    /// where the interface has an address and the group was joined). A failed send is logged, not thrown: one
    /// interface going away must not stop the others. Returns how many sends succeeded.
    /// </summary>
    public async Task<int> SendMulticastAsync(
        Message message, MdnsInterface iface, AddressFamily? onlyFamily, CancellationToken cancellationToken)
    {
        var bytes = message.ToByteArray();
        var sent = 0;
        if (_v4 is not null && _joinedV4.Contains(iface.Index) && onlyFamily is null or AddressFamily.InterNetwork)
        {
            if (await SendAsync(
                _v4, _sendV4, bytes, new IPEndPoint(MdnsWire.GroupV4, MdnsWire.Port), iface, cancellationToken))
                sent++;
        }
        if (_v6 is not null && _joinedV6.Contains(iface.Index) && onlyFamily is null or AddressFamily.InterNetworkV6)
        {
            var group = new IPAddress(MdnsWire.GroupV6.GetAddressBytes(), iface.Index);
            if (await SendAsync(_v6, _sendV6, bytes, new IPEndPoint(group, MdnsWire.Port), iface, cancellationToken))
                sent++;
        }
        return sent;
    }

    /// <summary>
    /// Sends <paramref name="message"/> to every chosen interface (both families). Returns the sends that succeeded.
    /// </summary>
    public async Task<int> SendMulticastToAllAsync(Message message, CancellationToken cancellationToken)
    {
        var sent = 0;
        foreach (var iface in Interfaces)
            sent += await SendMulticastAsync(message, iface, null, cancellationToken);
        return sent;
    }

    /// <summary>
    /// Sends <paramref name="message"/> straight to <paramref name="destination"/> (RFC 6762 §5.4, §6.7).
    /// </summary>
    public async Task<bool> SendUnicastAsync(
        Message message, IPEndPoint destination, MdnsInterface iface, CancellationToken cancellationToken)
    {
        var bytes = message.ToByteArray();
        return destination.AddressFamily == AddressFamily.InterNetwork
            ? _v4 is not null && await SendAsync(_v4, _sendV4, bytes, destination, iface, cancellationToken)
            : _v6 is not null && await SendAsync(_v6, _sendV6, bytes, destination, iface, cancellationToken);
    }

    private async Task<bool> SendAsync(
        Socket socket,
        SemaphoreSlim gate,
        byte[] bytes,
        IPEndPoint destination,
        MdnsInterface iface,
        CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetwork)
            {
                // An interface index for IP_MULTICAST_IF goes in network byte order (the Windows convention .NET
                // follows; on Linux the runtime turns it into struct ip_mreqn).
                socket.SetSocketOption(
                    SocketOptionLevel.IP,
                    SocketOptionName.MulticastInterface,
                    IPAddress.HostToNetworkOrder(iface.Index));
            }
            else
            {
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, iface.Index);
            }
            await socket.SendToAsync(bytes, SocketFlags.None, destination, cancellationToken);
            return true;
        }
        catch (SocketException ex)
        {
            // e.g. an IPv6 link-local address still tentative (DAD) or the interface just went down.
            _logger.Debug(
                "mDNS: send to {Destination} on {Interface} failed: {Error}",
                destination,
                iface.Name,
                ex.SocketErrorCode);
            return false;
        }
        finally
        {
            gate.Release();
        }
    }

    private Socket OpenSocket(AddressFamily family)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // RFC 6762 §15: several responders on one host share port 5353 (avahi, another wsctl, a browser).
            socket.ExclusiveAddressUse = false;
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (family == AddressFamily.InterNetwork)
            {
                socket.Bind(new IPEndPoint(IPAddress.Any, MdnsWire.Port));
                // RFC 6762 §11: TTL 255 on everything we send; receivers may check it to reject off-link packets.
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.IpTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            }
            else
            {
                socket.DualMode = false;
                socket.Bind(new IPEndPoint(IPAddress.IPv6Any, MdnsWire.Port));
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IpTimeToLive, 255);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, true);
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.PacketInformation, true);
            }
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new WsCoreException(
                FailureKind.Other,
                $"mDNS: cannot open UDP port {MdnsWire.Port} ({family}): {ex.SocketErrorCode}",
                hint: "another program may hold port 5353 exclusively",
                inner: ex);
        }
    }

    private void Join(Socket socket, MdnsInterface iface, HashSet<int> joined)
    {
        try
        {
            if (socket.AddressFamily == AddressFamily.InterNetwork)
                socket.SetSocketOption(
                    SocketOptionLevel.IP,
                    SocketOptionName.AddMembership,
                    new MulticastOption(MdnsWire.GroupV4, iface.Index));
            else
                socket.SetSocketOption(
                    SocketOptionLevel.IPv6,
                    SocketOptionName.AddMembership,
                    new IPv6MulticastOption(MdnsWire.GroupV6, iface.Index));
            joined.Add(iface.Index);
            _logger.Debug(
                "mDNS: joined {Family} group on {Interface} (index {Index})",
                socket.AddressFamily,
                iface.Name,
                iface.Index);
        }
        catch (SocketException ex)
        {
            // e.g. IPv6 on a loopback device: ::1 is not link-local, so ff02::fb cannot work there.
            _logger.Debug(
                "mDNS: cannot join {Family} group on {Interface}: {Error}",
                socket.AddressFamily,
                iface.Name,
                ex.SocketErrorCode);
        }
    }

    private async Task ReceiveLoopAsync(Socket socket)
    {
        // One buffer per socket for the transport's lifetime; a message is parsed before the next receive.
        var buffer = ArrayPool<byte>.Shared.Rent(MdnsWire.MaxMessageSize);
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(IPAddress.Any, 0)
            : new IPEndPoint(IPAddress.IPv6Any, 0);
        var joined = socket.AddressFamily == AddressFamily.InterNetwork ? _joinedV4 : _joinedV6;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                SocketReceiveMessageFromResult result;
                try
                {
                    result = await socket.ReceiveMessageFromAsync(
                        buffer.AsMemory(0, MdnsWire.MaxMessageSize), SocketFlags.None, any, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (SocketException ex) when (ex.SocketErrorCode is SocketError.MessageSize
                    or SocketError.ConnectionReset)
                {
                    continue; // an oversized datagram (dropped, §17) or an ICMP error from an earlier send
                }
                catch (ObjectDisposedException)
                {
                    break;
                }
                var index = result.PacketInformation.Interface;
                if (!joined.Contains(index) || MdnsInterfaces.ByIndex(Interfaces, index) is not { } iface)
                    continue; // arrived on an interface not chosen (e.g. the options named another one)
                var message = MdnsWire.TryParse(buffer, result.ReceivedBytes);
                if (message is null)
                {
                    _logger.Debug(
                        "mDNS: ignored a malformed {Length}-byte datagram from {Source}",
                        result.ReceivedBytes,
                        result.RemoteEndPoint);
                    continue;
                }
                var source = (IPEndPoint)result.RemoteEndPoint;
                if (source.Address.IsIPv6LinkLocal && source.Address.ScopeId == 0)
                    source = new IPEndPoint(MdnsQueryMatcher.WithScope(source.Address, index), source.Port);
                _received.Writer.TryWrite(
                    new MdnsDatagram(message, source, iface, MdnsLink.IsGroup(result.PacketInformation.Address)));
            }
        }
        catch (Exception ex) when (ex is SocketException or InvalidOperationException)
        {
            _logger.Warning("mDNS: receive loop on {Family} stopped: {Error}", socket.AddressFamily, ex.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Stops receiving and closes the sockets. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _v4?.Dispose();
        _v6?.Dispose();
        try
        {
            await Task.WhenAll(_receiveLoops);
        }
        catch (OperationCanceledException)
        {
        }
        _received.Writer.TryComplete();
        _stop.Dispose();
        _sendV4.Dispose();
        _sendV6.Dispose();
    }
}

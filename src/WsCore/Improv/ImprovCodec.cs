using System.Text;

namespace WsCore.Improv;

/// <summary>
/// The Improv Wi-Fi serial protocol's encoding, version 1 (improv-wifi.com/serial): packets, RPC commands and RPC
/// results. Pure: no I/O.
/// </summary>
/// <remarks>
/// A packet is <c>"IMPROV"</c>, the version (1), the type, the data length, the data, and a checksum: the low byte
/// of the sum of every byte before it. wsctl writes a <c>'\n'</c> after each packet, as the npm
/// improv-wifi-serial-sdk does (serial.ts, writePacketToStream), so a device that reads its console by lines sees
/// one packet a line.
/// </remarks>
public static class ImprovCodec
{
    /// <summary>The protocol version this codec speaks.</summary>
    public const byte Version = 1;
    /// <summary>The longest data a packet carries (its length is one byte).</summary>
    public const int MaxData = 255;
    /// <summary>Header, version, type and length: the bytes before the data.</summary>
    public const int PrefixLength = 9;

    /// <summary>The six header bytes, "IMPROV".</summary>
    public static ReadOnlySpan<byte> Header => "IMPROV"u8;

    /// <summary>The packet of <paramref name="type"/> with <paramref name="data"/>, its checksum and a '\n'.</summary>
    /// <exception cref="ArgumentException">The data is longer than 255 bytes.</exception>
    public static byte[] Encode(ImprovPacketType type, ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxData)
            throw new ArgumentException($"an Improv packet carries at most {MaxData} bytes", nameof(data));
        var packet = new byte[PrefixLength + data.Length + 2];
        Header.CopyTo(packet);
        packet[6] = Version;
        packet[7] = (byte)type;
        packet[8] = (byte)data.Length;
        data.CopyTo(packet.AsSpan(PrefixLength));
        packet[PrefixLength + data.Length] = Checksum(packet.AsSpan(0, PrefixLength + data.Length));
        packet[^1] = (byte)'\n';
        return packet;
    }

    /// <summary>The low byte of the sum of <paramref name="bytes"/>.</summary>
    public static byte Checksum(ReadOnlySpan<byte> bytes)
    {
        var sum = 0;
        foreach (var b in bytes)
            sum += b;
        return (byte)sum;
    }

    /// <summary>An RPC packet: the command, the length of its arguments, the arguments.</summary>
    public static byte[] Rpc(ImprovCommand command, ReadOnlySpan<byte> arguments)
    {
        if (arguments.Length > MaxData - 2)
            throw new ArgumentException($"RPC arguments are at most {MaxData - 2} bytes", nameof(arguments));
        var data = new byte[arguments.Length + 2];
        data[0] = (byte)command;
        data[1] = (byte)arguments.Length;
        arguments.CopyTo(data.AsSpan(2));
        return Encode(ImprovPacketType.Rpc, data);
    }

    /// <summary>
    /// RPC 1, "Send Wi-Fi settings": the SSID's length and UTF-8 bytes, the password's length and bytes (the spec's
    /// example: <c>01 1E 0C {MyWirelessAP} 10 {mysecurepassword}</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Either is longer than 255 bytes, or both together do not fit.</exception>
    public static byte[] WifiSettings(string ssid, string password)
    {
        var ssidBytes = Encoding.UTF8.GetBytes(ssid);
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        if (ssidBytes.Length > 255 || passwordBytes.Length > 255 || ssidBytes.Length + passwordBytes.Length + 2 >
            MaxData - 2)
            throw new ArgumentException("the SSID and password do not fit one Improv packet");
        var arguments = new byte[ssidBytes.Length + passwordBytes.Length + 2];
        arguments[0] = (byte)ssidBytes.Length;
        ssidBytes.CopyTo(arguments, 1);
        arguments[ssidBytes.Length + 1] = (byte)passwordBytes.Length;
        passwordBytes.CopyTo(arguments, ssidBytes.Length + 2);
        return Rpc(ImprovCommand.SendWifiSettings, arguments);
    }

    /// <summary>
    /// An RPC result's command and strings (data: command, length, then each string as its length and UTF-8
    /// bytes); false when the lengths do not add up.
    /// </summary>
    public static bool TryParseResult(ReadOnlySpan<byte> data, out byte command, out IReadOnlyList<string> strings)
    {
        command = 0;
        strings = [];
        if (data.Length < 2 || data[1] != data.Length - 2)
            return false;
        command = data[0];
        var list = new List<string>();
        var i = 2;
        while (i < data.Length)
        {
            var length = data[i];
            if (i + 1 + length > data.Length)
                return false;
            list.Add(Encoding.UTF8.GetString(data.Slice(i + 1, length)));
            i += 1 + length;
        }
        strings = list;
        return true;
    }
}

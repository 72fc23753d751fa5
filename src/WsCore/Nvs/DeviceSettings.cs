using System.Text;

namespace WsCore.Nvs;

/// <summary>
/// What the firmware reads from NVS at boot: namespace <c>wsctl</c> with <c>ssid</c>, <c>pass</c>, <c>hostname</c>,
/// <c>port</c> (u16) and <c>max_clients</c> (u8), in that order.
/// </summary>
/// <param name="Ssid">Wi-Fi network name, 1-32 bytes.</param>
/// <param name="Password">WPA passphrase (8-63 characters or 64 hex digits), or empty for an open network.</param>
/// <param name="Hostname">mDNS host name, a DNS label.</param>
/// <param name="WebSocketPort">The device's WebSocket port.</param>
/// <param name="MaxClients">Simultaneous WebSocket clients, 1-16.</param>
public sealed record DeviceSettings(string Ssid, string Password, string Hostname = "esp32ws", int WebSocketPort = 8080, int MaxClients = 5)
{
    /// <summary>The NVS namespace the firmware opens.</summary>
    public const string NamespaceName = "wsctl";

    /// <summary>Never prints the password.</summary>
    public override string ToString() =>
        $"DeviceSettings {{ Ssid = {Ssid}, Password = {(Password.Length == 0 ? "(open)" : "(hidden)")}, Hostname = {Hostname}, WebSocketPort = {WebSocketPort}, MaxClients = {MaxClients} }}";

    /// <summary>
    /// Checks every field; throws <see cref="WsCoreException"/> (InvalidInput) naming the first bad one. Messages
    /// never contain the password.
    /// </summary>
    public void Validate()
    {
        var ssidBytes = Encoding.UTF8.GetByteCount(Ssid);
        if (ssidBytes is < 1 or > 32)
            throw Invalid("--ssid", $"the SSID must be 1-32 bytes (it is {ssidBytes})");
        if (Password.Length != 0)
        {
            var hex64 = Password.Length == 64 && Password.All(char.IsAsciiHexDigit);
            // WPA2-PSK passphrases are printable ASCII (IEEE 802.11i H.4.1). The character itself is not shown: it is
            // part of a secret.
            var wrong = Password.AsSpan().IndexOfAnyExceptInRange((char)0x20, (char)0x7E);
            if (!hex64 && wrong >= 0)
                throw Invalid("--pass", $"character {wrong + 1} of the password is not printable ASCII (letters like ä, é or ß " +
                    "are not allowed in a WPA passphrase): use 8-63 characters from space to ~, or 64 hex digits");
            if (!hex64 && Password.Length is < 8 or > 63)
                throw Invalid("--pass", $"the password must be empty (open network), 8-63 printable ASCII characters, or 64 hex digits (it has {Password.Length} characters)");
        }
        if (!IsDnsLabel(Hostname))
            throw Invalid("--hostname", $"'{Hostname}' is not a valid host name (1-63 letters, digits and '-', not starting or ending with '-')");
        if (WebSocketPort is < 1 or > 65535)
            throw Invalid("--ws-port", $"{WebSocketPort} is not a TCP port (1-65535)");
        if (MaxClients is < 1 or > 16)
            throw Invalid("--max-clients", $"{MaxClients} is out of range (1-16)");
    }

    /// <summary>
    /// The NVS partition image for these settings, byte-identical to what nvs_partition_gen.py makes from the same
    /// entries and size when the SSID is ASCII (a non-ASCII SSID gets its UTF-8 byte count as length, which the
    /// device needs and the generator gets wrong; see <see cref="NvsPartitionBuilder.String(string, string)"/>).
    /// </summary>
    public byte[] BuildNvsImage(int partitionSize)
    {
        Validate();
        return new NvsPartitionBuilder(partitionSize)
            .Namespace(NamespaceName)
            .String("ssid", Ssid)
            .String("pass", Password)
            .String("hostname", Hostname)
            .U16("port", (ushort)WebSocketPort)
            .U8("max_clients", (byte)MaxClients)
            .Build();
    }

    /// <summary>An RFC 1123 host-name label.</summary>
    public static bool IsDnsLabel(string label) =>
        label.Length is >= 1 and <= 63 && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static WsCoreException Invalid(string field, string message) => new(FailureKind.InvalidInput, $"{field}: {message}");
}

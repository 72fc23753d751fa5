using System.Text;

namespace WsCore.Nvs;

/// <summary>
/// What the firmware reads from NVS at boot: namespace <c>wsctl</c> with <c>ssid</c>, <c>pass</c>, <c>hostname</c>,
/// <c>port</c> (u16) and <c>max_clients</c> (u8), in that order, then <c>echo</c> (u8), <c>counter_ms</c> (u32),
/// <c>ota_key</c> (a 32-byte blob) and <c>ota_confirm_s</c> (u16) when they are set: an image without them leaves the
/// firmware's own defaults (no echo, a counter every 5 s, OTA off, 120 s to confirm an update; docs/ota-protocol.md).
/// </summary>
/// <remarks>
/// The limits and names are the firmware's, defined once in
/// <c>src/firmware/components/ws_app/include/wsctl_limits.h</c>; a test parses that header and compares it with the
/// constants here, so a value the device cannot hold is refused here rather than dropped on the device.
/// </remarks>
/// <param name="Ssid">Wi-Fi network name, 1-32 bytes.</param>
/// <param name="Password">WPA passphrase (8-63 characters or 64 hex digits), or empty for an open network.</param>
/// <param name="Hostname">mDNS host name: 1-32 letters, digits and '-'.</param>
/// <param name="WebSocketPort">The device's WebSocket port.</param>
/// <param name="MaxClients">Simultaneous WebSocket clients, 1-8.</param>
/// <param name="Echo">Whether the device sends each message back to its sender; null: not written.</param>
/// <param name="CounterInterval">
/// How often the device broadcasts its counter message, whole milliseconds up to an hour; zero: no counter; null: not
/// written.
/// </param>
/// <param name="OtaKey">
/// The key that authenticates updates over <c>/ota</c>, <see cref="OtaKeyBytes"/> bytes; null: not written (OTA stays
/// off on a device that has none).
/// </param>
/// <param name="OtaConfirmTimeout">
/// How long a newly updated app waits for its confirmation before it rolls back, whole seconds from 10 to 3600; null:
/// not written (the firmware's own 120 s).
/// </param>
public sealed record DeviceSettings(string Ssid, string Password, string Hostname = DeviceSettings.DefaultHostname,
    int WebSocketPort = DeviceSettings.DefaultWebSocketPort, int MaxClients = DeviceSettings.DefaultMaxClients,
    bool? Echo = null, TimeSpan? CounterInterval = null, byte[]? OtaKey = null, TimeSpan? OtaConfirmTimeout = null)
{
    /// <summary>The NVS namespace the firmware opens (<c>WSCTL_NVS_NAMESPACE</c>).</summary>
    public const string NamespaceName = "wsctl";
    /// <summary>NVS key of the SSID, a string (<c>WSCTL_NVS_KEY_SSID</c>).</summary>
    public const string SsidKey = "ssid";
    /// <summary>NVS key of the password, a string (<c>WSCTL_NVS_KEY_PASS</c>).</summary>
    public const string PasswordKey = "pass";
    /// <summary>NVS key of the host name, a string (<c>WSCTL_NVS_KEY_HOSTNAME</c>).</summary>
    public const string HostnameKey = "hostname";
    /// <summary>NVS key of the WebSocket port, a u16 (<c>WSCTL_NVS_KEY_PORT</c>).</summary>
    public const string PortKey = "port";
    /// <summary>NVS key of the client limit, a u8 (<c>WSCTL_NVS_KEY_MAX_CLIENTS</c>).</summary>
    public const string MaxClientsKey = "max_clients";
    /// <summary>NVS key of echo mode, a u8: 1 on, 0 off (<c>WSCTL_NVS_KEY_ECHO</c>).</summary>
    public const string EchoKey = "echo";
    /// <summary>
    /// NVS key of the counter interval in milliseconds, a u32; 0: no counter (<c>WSCTL_NVS_KEY_COUNTER_MS</c>).
    /// </summary>
    public const string CounterIntervalKey = "counter_ms";
    /// <summary>
    /// NVS key of the OTA key, a blob of <see cref="OtaKeyBytes"/> bytes (<c>WSCTL_NVS_KEY_OTA_KEY</c>).
    /// </summary>
    public const string OtaKeyKey = "ota_key";
    /// <summary>
    /// NVS key of the OTA confirmation deadline in seconds, a u16 (<c>WSCTL_NVS_KEY_OTA_CONFIRM_S</c>).
    /// </summary>
    public const string OtaConfirmKey = "ota_confirm_s";
    /// <summary>
    /// Bytes of the OTA key (<c>WSCTL_OTA_KEY_BYTES</c>): an HMAC-SHA256 key as long as the hash (RFC 2104 §3).
    /// </summary>
    public const int OtaKeyBytes = 32;
    /// <summary>
    /// Shortest confirmation deadline in seconds (<c>WSCTL_OTA_CONFIRM_S_MIN</c>): a new app needs some seconds to
    /// boot, bring its network and server up and be reached again.
    /// </summary>
    public const int MinOtaConfirmSeconds = 10;
    /// <summary>Longest confirmation deadline in seconds (<c>WSCTL_OTA_CONFIRM_S_MAX</c>: an hour).</summary>
    public const int MaxOtaConfirmSeconds = 3600;
    /// <summary>
    /// The firmware's confirmation deadline in seconds when NVS has none (<c>WSCTL_DEFAULT_OTA_CONFIRM_S</c>).
    /// </summary>
    public const int DefaultOtaConfirmSeconds = 120;

    /// <summary>Most bytes of an SSID (<c>WSCTL_SSID_MAX_BYTES</c>: wifi_sta_config_t.ssid[32]).</summary>
    public const int SsidMaxBytes = 32;
    /// <summary>Fewest characters of a WPA passphrase (<c>WSCTL_PASS_PHRASE_MIN</c>).</summary>
    public const int PassphraseMinLength = 8;
    /// <summary>Most characters of a WPA passphrase (<c>WSCTL_PASS_PHRASE_MAX</c>).</summary>
    public const int PassphraseMaxLength = 63;
    /// <summary>Hex digits of a raw 256-bit PSK (<c>WSCTL_PASS_PSK_HEX_LEN</c>).</summary>
    public const int PskHexLength = 64;
    /// <summary>
    /// Most characters of the host name (<c>WSCTL_HOSTNAME_MAX</c>): ESP-IDF's esp_netif_set_hostname refuses more
    /// than 32, well below the 63 of a DNS label.
    /// </summary>
    public const int HostnameMaxLength = 32;
    /// <summary>Lowest WebSocket port (<c>WSCTL_WS_PORT_MIN</c>).</summary>
    public const int MinWebSocketPort = 1;
    /// <summary>Highest WebSocket port (<c>WSCTL_WS_PORT_MAX</c>).</summary>
    public const int MaxWebSocketPort = 65535;
    /// <summary>Fewest clients (<c>WSCTL_MAX_CLIENTS_MIN</c>).</summary>
    public const int MinClients = 1;
    /// <summary>
    /// Most clients (<c>WSCTL_MAX_CLIENTS_MAX</c>): the server at 8 clients needs 14 of the device's 16 lwIP sockets
    /// (listener, clients, 4 handshake/closing slots, one to answer 503), and 2 stay spare.
    /// </summary>
    public const int MaxClientsLimit = 8;
    /// <summary>The firmware's default host name (<c>WSCTL_DEFAULT_HOSTNAME</c>).</summary>
    public const string DefaultHostname = "esp32ws";
    /// <summary>The firmware's default WebSocket port (<c>WSCTL_DEFAULT_WS_PORT</c>).</summary>
    public const int DefaultWebSocketPort = 8080;
    /// <summary>The firmware's default client limit (<c>WSCTL_DEFAULT_MAX_CLIENTS</c>).</summary>
    public const int DefaultMaxClients = 5;
    /// <summary>Longest counter interval in milliseconds (<c>WSCTL_COUNTER_INTERVAL_MAX_MS</c>: one hour).</summary>
    public const int MaxCounterIntervalMs = 3_600_000;
    /// <summary>
    /// The firmware's counter interval in milliseconds when NVS has none (<c>WSCTL_DEFAULT_COUNTER_INTERVAL_MS</c>).
    /// </summary>
    public const int DefaultCounterIntervalMs = 5000;

    /// <summary>Longest counter interval, <see cref="MaxCounterIntervalMs"/>.</summary>
    public static TimeSpan MaxCounterInterval => TimeSpan.FromMilliseconds(MaxCounterIntervalMs);

    /// <summary>Longest confirmation deadline, <see cref="MaxOtaConfirmSeconds"/>.</summary>
    public static TimeSpan MaxOtaConfirmTimeout => TimeSpan.FromSeconds(MaxOtaConfirmSeconds);

    /// <summary>Never prints the password or the OTA key.</summary>
    public override string ToString() =>
        $"DeviceSettings {{ Ssid = {Ssid}, Password = {(Password.Length == 0 ? "(open)" : "(hidden)")}, Hostname = " +
            $"{Hostname}, WebSocketPort = {WebSocketPort}, MaxClients = {MaxClients}, Echo = {Echo}, " +
            $"CounterInterval = {CounterInterval}, OtaKey = {(OtaKey is null ? "" : "(hidden)")}, " +
            $"OtaConfirmTimeout = {OtaConfirmTimeout} }}";

    /// <summary>
    /// Checks every field; throws <see cref="WsCoreException"/> (InvalidInput) with the first bad one as its
    /// <see cref="WsCoreException.Field"/>. Messages never contain the password.
    /// </summary>
    public void Validate()
    {
        var ssidBytes = Encoding.UTF8.GetByteCount(Ssid);
        if (ssidBytes is < 1 or > SsidMaxBytes)
            throw WsCoreException.Invalid(InputField.Ssid,
                $"the SSID must be 1-{SsidMaxBytes} bytes (it is {ssidBytes})");
        if (Password.Length != 0)
        {
            var hex = Password.Length == PskHexLength && Password.All(char.IsAsciiHexDigit);
            // WPA2-PSK passphrases are printable ASCII (IEEE 802.11i H.4.1). The character itself is not shown: it is
            // part of a secret.
            var wrong = Password.AsSpan().IndexOfAnyExceptInRange((char)0x20, (char)0x7E);
            if (!hex && wrong >= 0)
                throw WsCoreException.Invalid(InputField.Password,
                    $"character {wrong + 1} of the password is not printable ASCII (letters like ä, é or ß are not " +
                    $"allowed in a WPA passphrase): use {PassphraseMinLength}-{PassphraseMaxLength} characters from " +
                    $"space to ~, or {PskHexLength} hex digits");
            if (!hex && Password.Length is < PassphraseMinLength or > PassphraseMaxLength)
                throw WsCoreException.Invalid(InputField.Password,
                    $"the password must be empty (open network), {PassphraseMinLength}-{PassphraseMaxLength} " +
                    $"printable ASCII characters, or {PskHexLength} hex digits (it has {Password.Length} characters)");
        }
        if (!IsDnsLabel(Hostname))
            throw WsCoreException.Invalid(InputField.Hostname, $"'{Hostname}' is not a valid host name " +
                $"(1-{HostnameMaxLength} letters, digits and '-', not starting or ending with '-')");
        if (Hostname.Length > HostnameMaxLength)
            throw WsCoreException.Invalid(InputField.Hostname, $"'{Hostname}' has {Hostname.Length} characters; " +
                $"the device takes at most {HostnameMaxLength} (ESP-IDF's host-name limit)");
        if (WebSocketPort is < MinWebSocketPort or > MaxWebSocketPort)
            throw WsCoreException.Invalid(InputField.WebSocketPort,
                $"{WebSocketPort} is not a TCP port ({MinWebSocketPort}-{MaxWebSocketPort})");
        if (MaxClients is < MinClients or > MaxClientsLimit)
            throw WsCoreException.Invalid(InputField.MaxClients,
                $"{MaxClients} is out of range ({MinClients}-{MaxClientsLimit}: " +
                "the device's 16 lwIP sockets hold no more)");
        // NVS holds whole milliseconds (a u32), at most the Kconfig range's hour.
        if (CounterInterval is { } interval && (interval < TimeSpan.Zero || interval > MaxCounterInterval
            || interval.Ticks % TimeSpan.TicksPerMillisecond != 0))
            throw WsCoreException.Invalid(InputField.CounterInterval,
                $"{interval.TotalMilliseconds} ms is not a counter interval the device takes (0 for no counter, or " +
                $"whole milliseconds up to {MaxCounterIntervalMs} ms, one hour)");
        if (OtaKey is { Length: not OtaKeyBytes } key)
            throw WsCoreException.Invalid(InputField.OtaKey,
                $"the OTA key is {key.Length} bytes; the device takes exactly {OtaKeyBytes}");
        // NVS holds whole seconds (a u16); too short a deadline would roll every update back before it is reached.
        if (OtaConfirmTimeout is { } confirm && (confirm < TimeSpan.FromSeconds(MinOtaConfirmSeconds)
            || confirm > MaxOtaConfirmTimeout || confirm.Ticks % TimeSpan.TicksPerSecond != 0))
            throw WsCoreException.Invalid(InputField.OtaConfirmTimeout,
                $"{confirm.TotalSeconds} s is not a confirmation deadline the device takes (whole seconds from " +
                $"{MinOtaConfirmSeconds} to {MaxOtaConfirmSeconds}, an hour)");
    }

    /// <summary>
    /// The NVS partition image for these settings, byte-identical to what nvs_partition_gen.py makes from the same
    /// entries and size when the SSID is ASCII (a non-ASCII SSID gets its UTF-8 byte count as length, which the
    /// device needs and the generator gets wrong; see <see cref="NvsPartitionBuilder.String(string, string)"/>).
    /// </summary>
    public byte[] BuildNvsImage(int partitionSize)
    {
        Validate();
        return EncodeNvsImage(partitionSize);
    }

    /// <summary>
    /// The NVS image without <see cref="Validate"/>: for the generator vectors, which also cover values beyond what
    /// the device takes (a 63-character host name, 16 clients) because the NVS format holds them.
    /// </summary>
    internal byte[] EncodeNvsImage(int partitionSize)
    {
        var builder = new NvsPartitionBuilder(partitionSize)
            .Namespace(NamespaceName)
            .String(SsidKey, Ssid)
            .String(PasswordKey, Password)
            .String(HostnameKey, Hostname)
            .U16(PortKey, (ushort)WebSocketPort)
            .U8(MaxClientsKey, (byte)MaxClients);
        // Only when set, so an image made without them is byte for byte what it was before these keys existed.
        if (Echo is { } echo)
            builder.U8(EchoKey, echo ? (byte)1 : (byte)0);
        if (CounterInterval is { } interval)
            builder.U32(CounterIntervalKey, (uint)(interval.Ticks / TimeSpan.TicksPerMillisecond));
        if (OtaKey is { } otaKey)
            builder.Blob(OtaKeyKey, otaKey);
        if (OtaConfirmTimeout is { } confirm)
            builder.U16(OtaConfirmKey, (ushort)(confirm.Ticks / TimeSpan.TicksPerSecond));
        return builder.Build();
    }

    /// <summary>
    /// An RFC 1123 host-name label (1-63 characters; the device takes at most <see cref="HostnameMaxLength"/>).
    /// </summary>
    public static bool IsDnsLabel(string label) =>
        label.Length is >= 1 and <= 63 && label[0] != '-' && label[^1] != '-'
            && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}

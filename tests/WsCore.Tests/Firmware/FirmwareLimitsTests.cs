using WsCore.Mdns;
using WsCore.Nvs;
using WsCore.Tests.Support;

namespace WsCore.Tests.Firmware;

/// <summary>
/// The limits and names both halves share are defined once, in the firmware's <c>wsctl_limits.h</c>: these tests
/// parse it and hold WsCore's constants, the Kconfig options and <c>sdkconfig.defaults</c> to it, so neither half
/// can change a limit alone.
/// </summary>
public class FirmwareLimitsTests
{
    private static readonly IReadOnlyDictionary<string, object> Limits =
        FirmwareSources.Defines(FirmwareSources.LimitsHeaderPath);

    private static long Int(string name) => Assert.IsType<long>(Limits[name]);

    private static string Str(string name) => Assert.IsType<string>(Limits[name]);

    /// <summary>Each define of the header and the WsCore value it must equal.</summary>
    public static TheoryData<string, object> Counterparts() => new()
    {
        { "WSCTL_SSID_MAX_BYTES", (long)DeviceSettings.SsidMaxBytes },
        { "WSCTL_PASS_PHRASE_MIN", (long)DeviceSettings.PassphraseMinLength },
        { "WSCTL_PASS_PHRASE_MAX", (long)DeviceSettings.PassphraseMaxLength },
        { "WSCTL_PASS_PSK_HEX_LEN", (long)DeviceSettings.PskHexLength },
        { "WSCTL_HOSTNAME_MAX", (long)DeviceSettings.HostnameMaxLength },
        { "WSCTL_WS_PORT_MIN", (long)DeviceSettings.MinWebSocketPort },
        { "WSCTL_WS_PORT_MAX", (long)DeviceSettings.MaxWebSocketPort },
        { "WSCTL_MAX_CLIENTS_MIN", (long)DeviceSettings.MinClients },
        { "WSCTL_MAX_CLIENTS_MAX", (long)DeviceSettings.MaxClientsLimit },
        { "WSCTL_DEFAULT_HOSTNAME", DeviceSettings.DefaultHostname },
        { "WSCTL_DEFAULT_WS_PORT", (long)DeviceSettings.DefaultWebSocketPort },
        { "WSCTL_DEFAULT_MAX_CLIENTS", (long)DeviceSettings.DefaultMaxClients },
        { "WSCTL_DEFAULT_COUNTER_INTERVAL_MS", (long)DeviceSettings.DefaultCounterIntervalMs },
        { "WSCTL_COUNTER_INTERVAL_MAX_MS", (long)DeviceSettings.MaxCounterIntervalMs },
        { "WSCTL_NVS_NAMESPACE", DeviceSettings.NamespaceName },
        { "WSCTL_NVS_KEY_SSID", DeviceSettings.SsidKey },
        { "WSCTL_NVS_KEY_PASS", DeviceSettings.PasswordKey },
        { "WSCTL_NVS_KEY_HOSTNAME", DeviceSettings.HostnameKey },
        { "WSCTL_NVS_KEY_PORT", DeviceSettings.PortKey },
        { "WSCTL_NVS_KEY_MAX_CLIENTS", DeviceSettings.MaxClientsKey },
        { "WSCTL_NVS_KEY_ECHO", DeviceSettings.EchoKey },
        { "WSCTL_NVS_KEY_COUNTER_MS", DeviceSettings.CounterIntervalKey },
        { "WSCTL_TXT_PATH", ServiceAdvertisement.PathKey },
        { "WSCTL_TXT_MAX_CLIENTS", ServiceAdvertisement.MaxClientsKey },
        { "WSCTL_TXT_VERSION", ServiceAdvertisement.VersionKey },
    };

    /// <summary>Defines checked by the other tests here rather than against one WsCore constant.</summary>
    private static readonly string[] CheckedElsewhere =
    [
        "WSCTL_SOCKETS_SPARE", "WSCTL_LWIP_MAX_SOCKETS", "WSCTL_MDNS_SERVICE", "WSCTL_MDNS_PROTO",
        // OTA (docs/ota-protocol.md), held to the protocol document's values until WsCore has its constants.
        "WSCTL_NVS_KEY_OTA_KEY", "WSCTL_NVS_KEY_OTA_CONFIRM_S", "WSCTL_OTA_PATH", "WSCTL_OTA_SUBPROTOCOL",
        "WSCTL_OTA_KEY_BYTES", "WSCTL_OTA_CONFIRM_S_MIN", "WSCTL_OTA_CONFIRM_S_MAX", "WSCTL_DEFAULT_OTA_CONFIRM_S",
        // The firmware's own TXT keys after serve's (serve advertises no app image).
        "WSCTL_TXT_ELF", "WSCTL_TXT_SLOT", "WSCTL_TXT_OTA",
    ];

    [Theory]
    [MemberData(nameof(Counterparts))]
    public void Header_Define_EqualsWsCoreConstant(string name, object expected)
    {
        Assert.True(Limits.ContainsKey(name), $"{name} is not in wsctl_limits.h");
        Assert.Equal(expected, Limits[name]);
    }

    [Fact]
    public void Header_EveryDefine_HasACheck()
    {
        // A limit added to the header must get its WsCore counterpart (and a row above) too.
        var known = Counterparts().Select(row => (string)row[0]).Concat(CheckedElsewhere).ToHashSet();
        Assert.All(Limits.Keys, k => Assert.True(known.Contains(k), $"{k} in wsctl_limits.h has no check here"));
        Assert.True(Limits.Count >= known.Count, "the parser found fewer defines than the tests expect");
    }

    [Fact]
    public void MaxClients_ServerSocketsPlusSpare_FitSdkconfigLwipMaxSockets()
    {
        var server = FirmwareSources.Defines(FirmwareSources.ServerHeaderPath);
        var extraSlots = Assert.IsType<long>(server["WS_SERVER_EXTRA_SLOTS"]);
        var sdkconfig = FirmwareSources.Sdkconfig(FirmwareSources.SdkconfigDefaultsPath);
        var lwipSockets = long.Parse(
            sdkconfig["CONFIG_LWIP_MAX_SOCKETS"], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(Int("WSCTL_LWIP_MAX_SOCKETS"), lwipSockets);
        // WS_SERVER_SOCKETS(n) = listener + n + extra slots + one accepted to answer 503 (ws_server.h).
        long ServerSockets(long clients) => 1 + clients + extraSlots + 1;
        Assert.True(ServerSockets(DeviceSettings.MaxClientsLimit) + Int("WSCTL_SOCKETS_SPARE") <= lwipSockets,
            $"{DeviceSettings.MaxClientsLimit} clients need {ServerSockets(DeviceSettings.MaxClientsLimit)} sockets " +
                $"+ spare; lwIP has {lwipSockets}");
        // And the limit is not lower than it needs to be.
        Assert.True(ServerSockets(DeviceSettings.MaxClientsLimit + 1) + Int("WSCTL_SOCKETS_SPARE") > lwipSockets);
        // ESP-IDF's Kconfig takes at most 16 before v5.3.2 (a larger value falls back to the default there).
        Assert.True(lwipSockets <= 16);
    }

    [Fact]
    public void Kconfig_RangesAndDefaults_AreTheHeaders()
    {
        var path = FirmwareSources.KconfigPath;
        Assert.Equal(
            (
                $"{Int("WSCTL_MAX_CLIENTS_MIN")} {Int("WSCTL_MAX_CLIENTS_MAX")}",
                Int("WSCTL_DEFAULT_MAX_CLIENTS").ToString()),
            FirmwareSources.KconfigOption(path, "WSCTL_MAX_CLIENTS"));
        Assert.Equal(
            ($"{Int("WSCTL_WS_PORT_MIN")} {Int("WSCTL_WS_PORT_MAX")}", Int("WSCTL_DEFAULT_WS_PORT").ToString()),
            FirmwareSources.KconfigOption(path, "WSCTL_PORT"));
        Assert.Equal(
            (null, $"\"{Str("WSCTL_DEFAULT_HOSTNAME")}\""), FirmwareSources.KconfigOption(path, "WSCTL_HOSTNAME"));
        Assert.Equal(
            ($"0 {Int("WSCTL_COUNTER_INTERVAL_MAX_MS")}", Int("WSCTL_DEFAULT_COUNTER_INTERVAL_MS").ToString()),
            FirmwareSources.KconfigOption(path, "WSCTL_COUNTER_INTERVAL_MS"));
        // The namespace is the header's alone: a Kconfig option could make the device read another than wsctl writes.
        Assert.Equal((null, null), FirmwareSources.KconfigOption(path, "WSCTL_NVS_NAMESPACE"));
    }

    [Fact]
    public void Ota_NamesAndDeadline_AreTheProtocolDocumentsAndKconfigs()
    {
        // docs/ota-protocol.md: the endpoint, its subprotocol, the key in NVS and the confirmation deadline.
        Assert.Equal("/ota", Str("WSCTL_OTA_PATH"));
        Assert.Equal("wsctl-ota.1", Str("WSCTL_OTA_SUBPROTOCOL"));
        Assert.Equal("ota_key", Str("WSCTL_NVS_KEY_OTA_KEY"));
        Assert.Equal(32, Int("WSCTL_OTA_KEY_BYTES"));
        Assert.Equal("ota_confirm_s", Str("WSCTL_NVS_KEY_OTA_CONFIRM_S"));
        Assert.Equal(120, Int("WSCTL_DEFAULT_OTA_CONFIRM_S"));
        Assert.InRange(
            Int("WSCTL_DEFAULT_OTA_CONFIRM_S"), Int("WSCTL_OTA_CONFIRM_S_MIN"), Int("WSCTL_OTA_CONFIRM_S_MAX"));
        Assert.True(Int("WSCTL_OTA_CONFIRM_S_MAX") <= ushort.MaxValue, "ota_confirm_s is a u16 in NVS");
        Assert.Equal(
            (
                $"{Int("WSCTL_OTA_CONFIRM_S_MIN")} {Int("WSCTL_OTA_CONFIRM_S_MAX")}",
                Int("WSCTL_DEFAULT_OTA_CONFIRM_S").ToString()),
            FirmwareSources.KconfigOption(FirmwareSources.KconfigPath, "WSCTL_OTA_CONFIRM_S"));
        // NVS key names are at most 15 characters.
        Assert.All(new[] { Str("WSCTL_NVS_KEY_OTA_KEY"), Str("WSCTL_NVS_KEY_OTA_CONFIRM_S") },
            k => Assert.InRange(k.Length, 1, 15));
        Assert.Equal(
            ["elf", "slot", "ota"], new[] { Str("WSCTL_TXT_ELF"), Str("WSCTL_TXT_SLOT"), Str("WSCTL_TXT_OTA") });
    }

    [Fact]
    public void MdnsService_TxtKeysAndOrder_AreTheFirmwares()
    {
        Assert.Equal(DeviceDiscovery.WebSocketServiceType, $"{Str("WSCTL_MDNS_SERVICE")}.{Str("WSCTL_MDNS_PROTO")}");
        var advertised = ServiceAdvertisement.WebSocket("esp32ws", 8080, "/", 5, "1.0.0");
        Assert.Equal(DeviceDiscovery.WebSocketServiceType, advertised.ServiceType);
        Assert.Equal(
            [Str("WSCTL_TXT_PATH"), Str("WSCTL_TXT_MAX_CLIENTS"), Str("WSCTL_TXT_VERSION")],
            advertised.Txt.Select(kv => kv.Key));
    }

    [Fact]
    public void DeviceSettings_AtEveryLimit_Accepted()
    {
        var settings = new DeviceSettings(
            new string('s', (int)Int("WSCTL_SSID_MAX_BYTES")),
            new string('p', (int)Int("WSCTL_PASS_PHRASE_MAX")),
            "h" + new string('o', (int)Int("WSCTL_HOSTNAME_MAX") - 2) + "x",
            (int)Int("WSCTL_WS_PORT_MAX"),
            (int)Int("WSCTL_MAX_CLIENTS_MAX"));
        settings.Validate();
        new DeviceSettings(
            "n",
            new string('a', (int)Int("WSCTL_PASS_PSK_HEX_LEN")),
            MaxClients: (int)Int("WSCTL_MAX_CLIENTS_MIN")).Validate();
        new DeviceSettings(
            "n",
            new string('p', (int)Int("WSCTL_PASS_PHRASE_MIN")),
            WebSocketPort: (int)Int("WSCTL_WS_PORT_MIN")).Validate();
        new DeviceSettings("n", "password1", Echo: true,
            CounterInterval: TimeSpan.FromMilliseconds(Int("WSCTL_COUNTER_INTERVAL_MAX_MS"))).Validate();
        new DeviceSettings("n", "password1", Echo: false, CounterInterval: TimeSpan.Zero).Validate();
    }

    public static TheoryData<string, DeviceSettings> OnePastEachLimit() => new()
    {
        { "--ssid", new DeviceSettings(new string('s', (int)Int("WSCTL_SSID_MAX_BYTES") + 1), "password1") },
        { "--pass", new DeviceSettings("n", new string('p', (int)Int("WSCTL_PASS_PHRASE_MIN") - 1)) },
        { "--pass", new DeviceSettings("n", new string('p', (int)Int("WSCTL_PASS_PHRASE_MAX") + 1)) },
        { "--hostname", new DeviceSettings("n", "password1", new string('h', (int)Int("WSCTL_HOSTNAME_MAX") + 1)) },
        { "--ws-port", new DeviceSettings("n", "password1", WebSocketPort: (int)Int("WSCTL_WS_PORT_MAX") + 1) },
        { "--max-clients", new DeviceSettings("n", "password1", MaxClients: (int)Int("WSCTL_MAX_CLIENTS_MAX") + 1) },
        { "--max-clients", new DeviceSettings("n", "password1", MaxClients: (int)Int("WSCTL_MAX_CLIENTS_MIN") - 1) },
        { "--counter-interval", new DeviceSettings("n", "password1",
            CounterInterval: TimeSpan.FromMilliseconds(Int("WSCTL_COUNTER_INTERVAL_MAX_MS") + 1)) },
        { "--counter-interval", new DeviceSettings("n", "password1", CounterInterval: TimeSpan.FromMilliseconds(-1)) },
        { "--counter-interval", new DeviceSettings("n", "password1", CounterInterval: TimeSpan.FromMilliseconds(1.5)) },
    };

    [Theory]
    [MemberData(nameof(OnePastEachLimit))]
    public void DeviceSettings_OnePastALimit_RefusedNamingTheOption(string option, DeviceSettings settings)
    {
        var e = Assert.Throws<WsCoreException>(settings.Validate);
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.Equal(option, Wsctl.Cli.InputFlags.Table[Assert.NotNull(e.Field)].Flag);
        Assert.DoesNotContain('\n', e.Message);
    }
}

using Serilog;
using WsCore.Esp;

namespace WsCore.Improv;

/// <summary>
/// An Improv Wi-Fi serial client (improv-wifi.com/serial) over a serial port or anything behind
/// <see cref="ISerialTransport"/>: detects the service, asks for the device's information, the networks it sees, and
/// has it join a network. It follows the npm improv-wifi-serial-sdk's order of things (serial.ts): the current state
/// asked for again every second until the device answers, one RPC at a time, a device error failing the RPC.
/// </summary>
/// <remarks>
/// The port is not reset: the device keeps running (no reset into the bootloader, unlike <c>flash</c>). One owner:
/// not thread-safe. Failures are <see cref="WsCoreException"/>s: <see cref="FailureKind.Device"/> when nothing
/// answers or the device reports a protocol error, <see cref="FailureKind.ConnectionFailed"/> for "unable to
/// connect", <see cref="FailureKind.Timeout"/> when an answer stops coming.
/// </remarks>
public sealed class ImprovClient
{
    /// <summary>How often the current state is asked for again while detecting (the SDK's retry interval).</summary>
    public static readonly TimeSpan DetectRetry = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan ReadSlice = TimeSpan.FromMilliseconds(100);
    private readonly ISerialTransport _transport;
    private readonly ILogger _logger;
    private readonly ImprovReader _reader = new();
    private readonly byte[] _buffer = new byte[512];

    public ImprovClient(ISerialTransport transport, ILogger logger)
    {
        _transport = transport;
        _logger = logger;
    }

    /// <summary>The state the device reported last.</summary>
    public ImprovState? State { get; private set; }

    /// <summary>
    /// Finds the Improv service: asks for the current state every second until a state packet comes; a provisioned
    /// device also sends its URL. Returns the state and that URL (null when not provisioned or none given).
    /// </summary>
    /// <exception cref="WsCoreException">Device: no Improv answer within <paramref name="timeout"/>.</exception>
    public (ImprovState State, string? Url) Detect(TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = Deadline.After(timeout);
        var retry = Deadline.After(TimeSpan.Zero);
        State = null;
        while (State is null)
        {
            if (retry.Left <= TimeSpan.Zero)
            {
                Send(ImprovCodec.Rpc(ImprovCommand.RequestCurrentState, []));
                retry = Deadline.After(DetectRetry);
            }
            var slice = retry.Left < deadline.Left ? retry : deadline;
            if (Next(slice, cancel) is { } packet)
                Track(packet);
            else if (deadline.Left <= TimeSpan.Zero)
                throw NoAnswer(timeout);
        }
        if (State != ImprovState.Provisioned)
            return (State.Value, null);
        // The URL follows the state packet (the SDK reads it in that order too).
        var url = Result(ImprovCommand.RequestCurrentState, deadline, timeout, cancel) is [var first, ..]
            && first.Length > 0 ? first : null;
        return (State.Value, url);
    }

    /// <summary>RPC 3: firmware name, version, chip and device name.</summary>
    public ImprovDeviceInfo RequestDeviceInformation(TimeSpan timeout, CancellationToken cancel)
    {
        Send(ImprovCodec.Rpc(ImprovCommand.RequestDeviceInformation, []));
        var strings = Result(ImprovCommand.RequestDeviceInformation, Deadline.After(timeout), timeout, cancel);
        if (strings.Count < 4)
            throw new WsCoreException(FailureKind.Device,
                $"the device's information has {strings.Count} fields, the Improv protocol says at least 4");
        return new ImprovDeviceInfo(strings[0], strings[1], strings[2], strings[3]);
    }

    /// <summary>RPC 4: the networks the device sees, in the order it lists them.</summary>
    public IReadOnlyList<ImprovNetwork> Scan(TimeSpan timeout, CancellationToken cancel)
    {
        Send(ImprovCodec.Rpc(ImprovCommand.RequestScannedNetworks, []));
        var deadline = Deadline.After(timeout);
        var networks = new List<ImprovNetwork>();
        while (true)
        {
            // One result per network, then one with no strings.
            var strings = Result(ImprovCommand.RequestScannedNetworks, deadline, timeout, cancel);
            if (strings.Count == 0)
                return networks;
            if (strings.Count < 3 || !int.TryParse(strings[1], System.Globalization.NumberStyles.AllowLeadingSign,
                    System.Globalization.CultureInfo.InvariantCulture, out var rssi))
                throw new WsCoreException(FailureKind.Device,
                    "the device sent a scan result that is not SSID, RSSI, YES/NO");
            networks.Add(new ImprovNetwork(strings[0], rssi, strings[2] != "NO"));
        }
    }

    /// <summary>
    /// RPC 1: has the device join <paramref name="ssid"/> with <paramref name="password"/>, and waits for the
    /// outcome. Returns the URL the device gives (null if none). The password is sent and nowhere else: not logged.
    /// </summary>
    /// <exception cref="WsCoreException">
    /// ConnectionFailed: the device could not join (it keeps its previous settings). Device: another error. Timeout:
    /// no outcome within <paramref name="timeout"/>.
    /// </exception>
    public string? Provision(string ssid, string password, TimeSpan timeout, CancellationToken cancel)
    {
        Send(ImprovCodec.WifiSettings(ssid, password));
        _logger.Debug("Improv: sent the Wi-Fi settings for {Ssid}", ssid);
        var strings = Result(ImprovCommand.SendWifiSettings, Deadline.After(timeout), timeout, cancel, ssid);
        return strings is [var url, ..] && url.Length > 0 ? url : null;
    }

    /// <summary>
    /// Waits for the result of <paramref name="command"/>; an error state other than "no error" on the way fails
    /// it, state packets are noted, results of other commands (late answers to a repeated request) are skipped.
    /// </summary>
    private IReadOnlyList<string> Result(ImprovCommand command, Deadline deadline, TimeSpan timeout,
        CancellationToken cancel, string? ssid = null)
    {
        while (true)
        {
            if (Next(deadline, cancel) is not { } packet)
                throw new WsCoreException(FailureKind.Timeout,
                    $"the device answered no Improv {Describe(command)} within {timeout.TotalSeconds:0.#} s",
                    "the device stopped answering: check its console (wsctl monitor) and try again");
            Track(packet);
            if (packet.Type == ImprovPacketType.ErrorState && packet.Data is [var code, ..] && code != 0)
                throw Failure((ImprovError)code, command, ssid);
            if (packet.Type == ImprovPacketType.RpcResult
                && ImprovCodec.TryParseResult(packet.Data, out var answered, out var strings)
                && answered == (byte)command)
                return strings;
        }
    }

    private void Track(ImprovPacket packet)
    {
        if (packet.Type == ImprovPacketType.CurrentState && packet.Data is [var state, ..])
        {
            State = (ImprovState)state;
            _logger.Debug("Improv: state {State}", State);
        }
    }

    /// <summary>The next packet, or null when the deadline passed first.</summary>
    private ImprovPacket? Next(Deadline deadline, CancellationToken cancel)
    {
        while (true)
        {
            if (_reader.TryTake(out var packet))
                return packet;
            var left = deadline.Left;
            if (left <= TimeSpan.Zero)
                return null;
            cancel.ThrowIfCancellationRequested();
            var read = _transport.Read(_buffer, left < ReadSlice ? left : ReadSlice);
            _reader.Feed(_buffer.AsSpan(0, read));
        }
    }

    private void Send(byte[] packet) => _transport.Write(packet);

    private WsCoreException NoAnswer(TimeSpan timeout) => new(FailureKind.Device,
        $"no Improv Wi-Fi answer on {_transport.Name} within {timeout.TotalSeconds:0.#} s",
        "the firmware must support Improv Wi-Fi serial (the esp32ws firmware of this project does, as ESPHome and " +
        "WLED builds do); check that it runs (wsctl monitor shows its console), that this is its port, and that " +
        "nothing else holds the port");

    private static WsCoreException Failure(ImprovError error, ImprovCommand command, string? ssid) => error switch
    {
        ImprovError.UnableToConnect => new WsCoreException(FailureKind.ConnectionFailed,
            $"the device could not join '{ssid}' (Improv: unable to connect)",
            "check the password and that the network is in range (a scan lists the networks the device sees); the " +
            "device keeps its previous settings"),
        ImprovError.UnknownRpcCommand => new WsCoreException(FailureKind.Device,
            $"the device does not know the Improv {Describe(command)} command",
            "its firmware speaks an older or smaller Improv"),
        ImprovError.InvalidRpcPacket => new WsCoreException(FailureKind.Device,
            $"the device refused the Improv {Describe(command)} packet as malformed",
            "the line may be losing bytes: try again"),
        _ => new WsCoreException(FailureKind.Device,
            $"the device reported Improv error 0x{(byte)error:X2} to {Describe(command)}"),
    };

    private static string Describe(ImprovCommand command) => command switch
    {
        ImprovCommand.SendWifiSettings => "send-Wi-Fi-settings",
        ImprovCommand.RequestCurrentState => "current-state",
        ImprovCommand.RequestDeviceInformation => "device-information",
        ImprovCommand.RequestScannedNetworks => "scan",
        _ => $"0x{(byte)command:X2}",
    };
}

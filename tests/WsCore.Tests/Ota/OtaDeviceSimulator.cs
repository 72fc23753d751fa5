using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using WsCore.Ota;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace WsCore.Tests.Ota;

/// <summary>
/// The device's side of wsctl-ota.1 as docs/ota-protocol.md describes it, on WsCore's WebSocket server on loopback:
/// hello with a fresh nonce, begin checked by its HMAC, the image taken within the window and acknowledged every
/// <see cref="AckEvery"/> bytes, the hash checked, then a "restart" (the server stopped and started again on the same
/// port) into the new image, pending until confirmed or rolled back. It stands in for the firmware's host build where
/// a test needs what that cannot do on demand: acknowledgements held back, a device that never comes back, a count
/// of the bytes in flight. The end-to-end tests against the host build are in OtaHostBuildTests.
/// </summary>
public sealed class OtaDeviceSimulator : IAsyncDisposable
{
    private readonly byte[] _key;
    private readonly Lock _lock = new();
    private WebSocketServer _server = null!;
    private Task _loop = Task.CompletedTask;
    private OtaImage _running;
    private OtaImage? _previous;
    private string _slot = "ota_0";
    private bool _pending;
    private bool _serving;
    private (string Result, string? Version, string? Reason) _lastUpdate = ("none", null, null);
    private CancellationTokenSource _confirmDeadline = new();
    private readonly Dictionary<int, Upload> _uploads = [];

    private sealed class Upload
    {
        public byte[] Nonce = [];
        public long Size = -1;
        public byte[] Sha256 = [];
        public MemoryStream Data = new();
        public long Acked;
    }

    private OtaDeviceSimulator(byte[] key, OtaImage running)
    {
        _key = key;
        _running = running;
    }

    /// <summary>The window <c>ready</c> announces.</summary>
    public long Window { get; set; } = 128 * 1024;

    /// <summary>How often <c>progress</c> is sent.</summary>
    public long AckEvery { get; set; } = 64 * 1024;

    /// <summary>How long each acknowledgement is held back (a slow flash).</summary>
    public TimeSpan AckDelay { get; set; }

    /// <summary>How long the device takes to come back after <c>rebooting</c>; null: it never does.</summary>
    public TimeSpan? RestartDelay { get; set; } = TimeSpan.Zero;

    /// <summary>How long a new app waits for its confirmation before it rolls back.</summary>
    public TimeSpan ConfirmDeadline { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The chip it says it is.</summary>
    public string Chip { get; set; } = "esp32c3";

    /// <summary>The port it listens on, the same after each restart.</summary>
    public int Port { get; private set; }

    /// <summary>The most image bytes it had received and not yet acknowledged, over every upload.</summary>
    public long MostUnacknowledged { get; private set; }

    /// <summary>The largest binary frame it received.</summary>
    public int LargestFrame { get; private set; }

    /// <summary>Completed uploads (rebooting sent).</summary>
    public int Restarts { get; private set; }

    /// <summary>What it runs now.</summary>
    public OtaImage Running
    {
        get
        {
            lock (_lock)
                return _running;
        }
    }

    /// <summary>
    /// Whether it is up and accepting connections: false from when it starts to restart (for an update or a rollback)
    /// until it listens again, so that a test that sees <see cref="Running"/> change waits for this too before it
    /// connects.
    /// </summary>
    public bool Serving
    {
        get
        {
            lock (_lock)
                return _serving;
        }
    }

    /// <summary>Whether the running app waits for its confirmation.</summary>
    public bool Pending
    {
        get
        {
            lock (_lock)
                return _pending;
        }
    }

    public static async Task<OtaDeviceSimulator> StartAsync(byte[] key, OtaImage running,
        Action<OtaDeviceSimulator>? configure = null)
    {
        var device = new OtaDeviceSimulator(key, running);
        configure?.Invoke(device);
        await device.BootAsync();
        return device;
    }

    private Task BootAsync()
    {
        _server = new WebSocketServer(new WebSocketServerOptions
        {
            BindAddress = IPAddress.Loopback,
            Port = Port,
            MaxClients = 5,
            Subprotocols = [OtaProtocol.Subprotocol],
            PingInterval = TimeSpan.FromMinutes(5),
        });
        _server.Start();
        Port = _server.LocalEndPoint.Port;
        lock (_lock)
            _serving = true;
        _loop = Task.Run(() => ServeAsync(_server));
        return Task.CompletedTask;
    }

    private async Task ServeAsync(WebSocketServer server)
    {
        await foreach (var e in server.Events.ReadAllAsync())
        {
            switch (e)
            {
                case ClientConnected open:
                    var upload = new Upload { Nonce = RandomNumberGenerator.GetBytes(32) };
                    lock (_lock)
                        _uploads[open.ClientId] = upload;
                    server.SendText(open.ClientId, HelloJson(upload.Nonce));
                    break;
                case MessageReceived message:
                    using (message)
                        await OnMessageAsync(server, message);
                    break;
                case ClientDisconnected gone:
                    lock (_lock)
                        _uploads.Remove(gone.ClientId);
                    break;
            }
        }
    }

    private string HelloJson(byte[] nonce)
    {
        lock (_lock)
        {
            var (result, version, reason) = _lastUpdate;
            var last = result == "none" ? "{\"result\":\"none\"}"
                : $"{{\"result\":\"{result}\",\"version\":\"{version}\"" +
                    (reason is null ? "}" : $",\"reason\":\"{reason}\"}}");
            return "{\"type\":\"hello\",\"protocol\":\"wsctl-ota.1\"," +
                $"\"nonce\":\"{Convert.ToHexStringLower(nonce)}\"," +
                $"\"chip\":\"{Chip}\",\"project\":\"{_running.Project}\",\"version\":\"{_running.Version}\"," +
                $"\"elf_sha256\":\"{_running.ElfSha256Hex}\",\"running_slot\":\"{_slot}\"," +
                $"\"state\":\"{(_pending ? "pending_verify" : "valid")}\",\"slot_size\":{4 * 1024 * 1024}," +
                $"\"last_update\":{last}}}";
        }
    }

    private async Task OnMessageAsync(WebSocketServer server, MessageReceived message)
    {
        Upload? upload;
        lock (_lock)
            _uploads.TryGetValue(message.ClientId, out upload);
        if (upload is null)
            return;
        var payload = message.Message.Payload;
        if (message.Message.Type == MessageType.Text)
        {
            using var json = JsonDocument.Parse(payload);
            var root = json.RootElement;
            switch (root.GetProperty("type").GetString())
            {
                case "begin":
                    upload.Size = root.GetProperty("size").GetInt64();
                    upload.Sha256 = Convert.FromHexString(root.GetProperty("sha256").GetString()!);
                    var auth = OtaAuth.Begin(_key, upload.Nonce, upload.Size, upload.Sha256,
                        root.GetProperty("force").GetBoolean());
                    if (!CryptographicOperations.FixedTimeEquals(auth,
                        Convert.FromHexString(root.GetProperty("auth").GetString()!)))
                    {
                        Error(server, message.ClientId, "auth_failed", "the authenticator does not match");
                        return;
                    }
                    server.SendText(message.ClientId, $"{{\"type\":\"ready\",\"window\":{Window}}}");
                    return;
                case "confirm":
                    var elf = Convert.FromHexString(root.GetProperty("elf_sha256").GetString()!);
                    var confirm = OtaAuth.Confirm(_key, upload.Nonce, elf);
                    if (!CryptographicOperations.FixedTimeEquals(confirm,
                        Convert.FromHexString(root.GetProperty("auth").GetString()!)))
                    {
                        Error(server, message.ClientId, "auth_failed", "the authenticator does not match");
                        return;
                    }
                    lock (_lock)
                    {
                        _pending = false;
                        _lastUpdate = ("confirmed", _running.Version, null);
                        _confirmDeadline.Cancel();
                    }
                    server.SendText(message.ClientId,
                        $"{{\"type\":\"confirmed\",\"version\":\"{_running.Version}\"}}");
                    return;
            }
            return;
        }
        LargestFrame = Math.Max(LargestFrame, payload.Length);
        upload.Data.Write(payload.Span);
        var received = upload.Data.Length;
        MostUnacknowledged = Math.Max(MostUnacknowledged, received - upload.Acked);
        if (received - upload.Acked >= AckEvery || received == upload.Size)
        {
            if (AckDelay > TimeSpan.Zero)
                await Task.Delay(AckDelay);
            upload.Acked = received;
            server.SendText(message.ClientId, $"{{\"type\":\"progress\",\"written\":{received}}}");
        }
        if (received < upload.Size)
            return;
        var data = upload.Data.ToArray();
        if (!SHA256.HashData(data).AsSpan().SequenceEqual(upload.Sha256))
        {
            Error(server, message.ClientId, "sha256_mismatch", "what was written is not what was announced");
            return;
        }
        server.SendText(message.ClientId, "{\"type\":\"rebooting\",\"slot\":\"ota_1\"}");
        server.CloseClient(message.ClientId, CloseStatus.GoingAway, "restarting");
        Restarts++;
        _ = RestartIntoAsync(OtaImage.Parse(data, "upload"));
    }

    private void Error(WebSocketServer server, int client, string code, string words)
    {
        server.SendText(client, $"{{\"type\":\"error\",\"code\":\"{code}\",\"message\":\"{words}\"}}");
        server.CloseClient(client, CloseStatus.PolicyViolation, code);
    }

    private async Task RestartIntoAsync(OtaImage image)
    {
        // Let the close go out before the "power" goes.
        await Task.Delay(50);
        lock (_lock)
            _serving = false;
        await _server.StopAsync();
        if (RestartDelay is not { } delay)
            return;
        await Task.Delay(delay);
        lock (_lock)
        {
            _previous = _running;
            _running = image;
            _slot = _slot == "ota_0" ? "ota_1" : "ota_0";
            _pending = true;
            if (image.Version.EndsWith("+panic-at-start", StringComparison.Ordinal))
                RollBackLocked("panic");
            else
            {
                _confirmDeadline = new CancellationTokenSource(ConfirmDeadline);
                _confirmDeadline.Token.Register(() => _ = RollBackAfterDeadlineAsync());
            }
        }
        await BootAsync();
    }

    private async Task RollBackAfterDeadlineAsync()
    {
        lock (_lock)
        {
            if (!_pending)
                return;
            _serving = false;
        }
        await _server.StopAsync();
        lock (_lock)
            RollBackLocked("not_confirmed");
        await BootAsync();
    }

    private void RollBackLocked(string reason)
    {
        _lastUpdate = ("rolled_back", _running.Version, reason);
        _running = _previous!;
        _slot = _slot == "ota_0" ? "ota_1" : "ota_0";
        _pending = false;
    }

    public async ValueTask DisposeAsync()
    {
        _confirmDeadline.Cancel();
        await _server.DisposeAsync();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>The endpoint an update connects to.</summary>
    public Uri Endpoint => new($"ws://127.0.0.1:{Port}/ota");
}

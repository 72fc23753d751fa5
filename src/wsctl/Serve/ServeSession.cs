using System.Net;
using Serilog;
using WsCore;
using WsCore.Cluster;
using WsCore.Control;
using WsCore.Mdns;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;
using WsCore.WebSockets.Tls;
using Wsctl.Cli;

namespace Wsctl.Serve;

/// <summary>What <c>wsctl serve</c> was asked to do.</summary>
public sealed record ServeSettings(
    int Port,
    IPAddress? Bind,
    int MaxClients,
    int MaxMessageBytes,
    TimeSpan? CounterInterval,
    TimeSpan PingInterval,
    bool Page,
    bool Echo,
    bool Relay,
    bool Json,
    bool Print = true,
    string? MdnsName = null,
    string? MdnsInterface = null,
    IReadOnlyList<string>? AllowedOrigins = null,
    int MaxPending = 64,
    ClusterSettings? Cluster = null,
    bool Raw = false,
    ServeTlsSettings? Tls = null,
    bool Compress = false);

/// <summary>
/// Where serve's TLS certificate comes from: PEM files (reloaded on SIGHUP), or, with both null, one made at start.
/// </summary>
public sealed record ServeTlsSettings(string? CertificateFile, string? KeyFile)
{
    /// <summary>A self-signed certificate made at start for this host's names.</summary>
    public static readonly ServeTlsSettings MadeAtStart = new(null, null);

    public bool SelfSigned => CertificateFile is null;
}

/// <summary>
/// Runs <c>wsctl serve</c>: a <see cref="WebSocketServer"/> plus the firmware's behaviour around it (the counter, the
/// test page), stdin lines broadcast, received messages on stdout, until SIGINT or SIGTERM.
/// </summary>
public static class ServeSession
{
    /// <summary>The counter message, as the firmware example sends it.</summary>
    public static string CounterMessage(long value) =>
        "{\"type\":\"message\",\"data\":{\"sensor\":\"counter\",\"value\":"
        + value.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}";

    public static async Task<ExitCode> RunAsync(ServeSettings settings, ILogger log, Stream stdout,
        CancellationToken cancel)
    {
        // SIGINT and SIGTERM (cancel) end serve gracefully: Close 1001 to every client, then exit 0 (not 130).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        InlineSocketCompletions.PreferUnlessConfigured();

        var options = new WebSocketServerOptions
        {
            BindAddress = settings.Bind,
            Port = settings.Port,
            MaxClients = settings.MaxClients,
            MaxMessageBytes = settings.MaxMessageBytes,
            MaxQueuedBytesPerClient = WebSocketServerOptions.QueueBoundFor(settings.MaxMessageBytes),
            PingInterval = settings.PingInterval,
            Compression = settings.Compress,
            MaxPendingHandshakes = settings.MaxPending,
            Origins = new OriginPolicy(settings.AllowedOrigins ?? [], LocalNames(settings.MdnsName),
                "start serve with --allow-origin ORIGIN to allow it"),
            // Echo and relay answer on the receiving thread: no hop through the event queue, nothing allocated per
            // message when nothing is printed (the events exist only to be printed then). Lambdas rather than static
            // methods: the compiler makes them instance methods of a cached object, which a delegate calls directly;
            // a delegate to a static method goes through a shuffle thunk first, on every message.
            MessageHandler = settings.Echo ? (server, clientId, type, payload) => server.Send(clientId, type, payload)
                : settings.Relay
                    ? (server, _, type, payload) => server.Send(WebSocketServer.AllClients, type, payload)
                    : null,
            PublishMessageEvents = settings.Print || !(settings.Echo || settings.Relay),
            Logger = log,
        };
        // Everything serve prints goes through one writer that never makes the server wait for stdout; disposed last,
        // after the server and the printing have stopped.
        using var output = new UnblockingOutput(stdout, batched: Console.IsOutputRedirected, log);
        // Plain lines are printed on the receiving thread too (MessageLines says why). JSON keeps the event queue, so
        // that a client's message never precedes its "open"; so does a cluster, whose node relays messages itself.
        var lines = settings.Print && !settings.Json && settings.Cluster is null
            ? new MessageLines(output, settings.Raw)
            : null;
        if (lines is not null)
        {
            var answer = options.MessageHandler;
            options.MessageHandler = (server, clientId, type, payload) =>
            {
                answer?.Invoke(server, clientId, type, payload);
                lines.Write(type, payload);
            };
            options.PublishMessageEvents = false;
        }
        // An mDNS interface that cannot be used is a usage error before anything listens, not after; so is a
        // certificate that does not load.
        if (settings.MdnsName is not null)
            MdnsInterfaces.Select(settings.MdnsInterface);
        var tls = settings.Tls is { } tlsSettings ? new ServerTls(LoadCertificate(tlsSettings, settings, log)) : null;
        options.Tls = tls;
        // Set once stdout's printer exists; a reload before that is only logged.
        EventPrinter? printer = null;
        // Registered before anything listens: from then on a SIGHUP reloads rather than ends serve.
        using var reload = tls is not null && settings.Tls!.CertificateFile is { } certificateFile
            ? new ReloadSignal(() =>
                Reload(tls, certificateFile, settings.Tls.KeyFile!, log, Volatile.Read(ref printer)))
            : null;
        // Redis unreachable is an error before anything listens too (unless --cluster-optional).
        await using var cluster = settings.Cluster is { } clusterSettings
            ? await ServeCluster.ConnectAsync(clusterSettings, settings, options, log)
            : null;
        await using var server = new WebSocketServer(options);
        // Set once the server exists (options may change until Start): /status answers from its client count.
        if (settings.Page)
            options.PageHandler = request => ServePage(server, request);
        server.Start();
        var port = server.LocalEndPoint.Port;
        var address = server.LocalEndPoint.Address;
        var host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{address}]"
            : address.ToString();
        var (ws, http) = tls is null ? ("ws", "http") : ("wss", "https");
        var where = server.IsDualMode ? $"{ws}://0.0.0.0:{port}/ and {ws}://[::]:{port}/" : $"{ws}://{host}:{port}/";
        var pageHost = server.IsDualMode || address.Equals(IPAddress.Any) ? "localhost" : host;

        if (cluster is not null)
            await cluster.StartAsync(server, settings.Cluster!.Instance ?? $"{Dns.GetHostName()}:{port}");

        // The control socket (wsctl broadcast, wsctl send --client) is named after the port actually bound.
        await using var control = await ControlServer.StartAsync(port,
            new ServeControl(server, cluster), log);
        // Said once the control socket exists too: a script that waits for this line can broadcast at once.
        log.Information("listening on {Where} (max {Max} clients{Page})", where, settings.MaxClients,
            settings.Page ? $"; test page {http}://{pageHost}:{port}/" : "");

        // Advertised only once the listener is bound, so whoever finds it can connect. Disposed before the server
        // stops (declared after it): the goodbye (RFC 6762 §10.1) leaves no stale record behind.
        await using var mdns = settings.MdnsName is { } name
            ? await MdnsResponder.StartAsync(name,
                ServiceAdvertisement.WebSocket(InstanceName(name), port, "/", settings.MaxClients,
                    Cli.VersionInfo.Number),
                new MdnsResponderOptions { Network = new MdnsOptions { InterfaceName = settings.MdnsInterface } },
                log, stop.Token)
            : null;

        var printing = PrintEventsAsync(server, settings, StartPrinting());
        EventPrinter StartPrinting()
        {
            var started = new EventPrinter(output, settings.Json, cluster?.Instance, settings.Raw);
            // The certificate's event comes first, before any client's.
            if (tls is not null && settings.Print)
            {
                started.WriteCertificate(tls.Certificate, CertificateEvent.Start);
                Volatile.Write(ref printer, started);
            }
            return started;
        }
        // In a cluster the counter is the node's: one sequence, published by the lease holder.
        var counting = settings.CounterInterval is { } interval && cluster is null
            ? CountAsync(server, interval, stop.Token) : Task.CompletedTask;
        StartStdinReader(line => cluster?.Broadcast(MessageType.Text, System.Text.Encoding.UTF8.GetBytes(line))
            ?? server.SendText(WebSocketServer.AllClients, line), log);

        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }
        log.Information("stopping: closing {Count} client(s) with 1001", server.ClientCount);
        await counting;
        // Leaves the cluster first: the others stop counting this instance's clients at once.
        if (cluster is not null)
            await cluster.DisposeAsync();
        await server.StopAsync();
        await printing;
        return ExitCode.Ok;
    }

    // The certificate given, or one made for this host's names (localhost, its host name, the loopback addresses, the
    // bound address, the mDNS name), so that whichever of them a client uses matches.
    private static ServerCertificate LoadCertificate(ServeTlsSettings tls, ServeSettings settings, ILogger log)
    {
        if (!tls.SelfSigned)
        {
            var loaded = ServerCertificate.LoadPem(tls.CertificateFile!, tls.KeyFile!);
            log.Information("TLS certificate from {File}: {Summary}", tls.CertificateFile, Describe(loaded));
            WarnIfOutOfDate(loaded, log);
            return loaded;
        }
        var names = new List<string> { "localhost" };
        var hostName = Dns.GetHostName();
        if (hostName.Length > 0)
            names.Add(hostName);
        if (settings.MdnsName is { } mdnsName)
            names.Add(InstanceName(mdnsName) + ".local");
        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (settings.Bind is { } bind && !bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any))
            addresses.Add(bind);
        var made = ServerCertificate.CreateSelfSigned(names, addresses);
        // Chromium takes the key's hash to accept this one certificate without a warning (and without accepting every
        // certificate): --ignore-certificate-errors-spki-list.
        log.Information("TLS self-signed certificate: {Summary}; public key SHA-256 (base64) {Spki}",
            Describe(made), made.SpkiSha256);
        return made;
    }

    private static string Describe(ServerCertificate certificate) =>
        $"for {string.Join(", ", certificate.Names)}, valid until {JsonLines.Timestamp(certificate.NotAfter)}; " +
        $"SHA-256 fingerprint {certificate.Fingerprint}";

    private static void WarnIfOutOfDate(ServerCertificate certificate, ILogger log)
    {
        var now = DateTimeOffset.UtcNow;
        if (now > certificate.NotAfter)
            log.Warning("the TLS certificate expired at {NotAfter}: clients that check it will refuse it",
                JsonLines.Timestamp(certificate.NotAfter));
        else if (now < certificate.NotBefore)
            log.Warning("the TLS certificate is valid only from {NotBefore}: clients that check it will refuse it",
                JsonLines.Timestamp(certificate.NotBefore));
    }

    // SIGHUP: the files again. New connections get the new certificate; those open keep theirs. A failure leaves the
    // certificate as it was and says why in one line.
    private static void Reload(ServerTls tls, string certificateFile, string keyFile, ILogger log,
        EventPrinter? printer)
    {
        ServerCertificate next;
        try
        {
            next = ServerCertificate.LoadPem(certificateFile, keyFile);
        }
        catch (WsCoreException e)
        {
            log.Warning("TLS certificate not reloaded, still serving SHA-256 {Fingerprint}: {Error}",
                tls.Certificate.Fingerprint, e.Message);
            return;
        }
        var previous = tls.Certificate;
        tls.Certificate = next;
        log.Information("TLS certificate reloaded from {File}: {Summary} (was {Previous})", certificateFile,
            Describe(next), previous.Fingerprint);
        WarnIfOutOfDate(next, log);
        if (printer is not null)
            printer.WriteCertificate(next, CertificateEvent.Reload);
    }

    // The names a page may reach this serve by besides addresses (rule 7 of OriginPolicy): its mDNS name, and the
    // machine's own host name (a phone opening http://laptop:8080/). A page's own DNS cannot point these here.
    private static List<string> LocalNames(string? mdnsName)
    {
        var host = Dns.GetHostName();
        List<string> names = [host, host + ".local"];
        if (mdnsName is not null)
            names.Add(InstanceName(mdnsName) + ".local");
        return names;
    }

    // "benchhost.local" advertises the instance "benchhost".
    private static string InstanceName(string mdnsName)
    {
        var name = mdnsName.TrimEnd('.');
        return name.EndsWith(".local", StringComparison.OrdinalIgnoreCase) ? name[..^".local".Length] : name;
    }

    // The test page, and the status it asks for to tell "server full" from "server gone" (see TestPage.StatusPath).
    private static HttpPage? ServePage(WebSocketServer server, HttpRequestHead request) => request.Path switch
    {
        "/" or "/index.html" => new HttpPage(TestPage.ContentType, TestPage.Utf8),
        TestPage.StatusPath => new HttpPage(TestPage.StatusContentType,
            TestPage.Status(server.ClientCount, server.Options.MaxClients)),
        _ => null,
    };

    private static async Task CountAsync(WebSocketServer server, TimeSpan interval, CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(interval);
        long value = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancel))
                server.SendText(WebSocketServer.AllClients, CounterMessage(++value));
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Each received event becomes a line (JSON: every event; plain: messages, unless MessageLines prints them on the
    // receiving thread), handed to the UnblockingOutput whenever no further event is waiting.
    private static async Task PrintEventsAsync(WebSocketServer server, ServeSettings settings, EventPrinter printer)
    {
        var events = server.Events;
        while (await events.WaitToReadAsync())
        {
            while (events.TryRead(out var serverEvent))
            {
                if (settings.Print)
                    printer.Write(serverEvent);
                (serverEvent as IDisposable)?.Dispose();
            }
            printer.Flush();
        }
    }

    // Console input has no truly asynchronous read on every platform: a background thread reads lines, so the end of
    // stdin (or a closed stdin under a service manager) just ends this thread and nothing else.
    private static void StartStdinReader(Func<string, int> broadcast, ILogger log)
    {
        var thread = new Thread(() =>
        {
            try
            {
                // UTF-8 whatever the first bytes are: a line starting FF FE is not a UTF-16 byte-order mark here.
                using var input = new StreamReader(Console.OpenStandardInput(), new System.Text.UTF8Encoding(false),
                    detectEncodingFromByteOrderMarks: false);
                while (input.ReadLine() is { } line)
                {
                    var sent = broadcast(line);
                    log.Debug("stdin line sent to {Count} client(s)", sent);
                }
                log.Debug("stdin closed; still serving");
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                log.Debug("stdin unreadable ({Error}); still serving", e.Message);
            }
        })
        {
            IsBackground = true,
            Name = "stdin lines",
        };
        thread.Start();
    }
}

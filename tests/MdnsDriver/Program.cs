using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Serilog;
using Serilog.Events;
using WsCore;
using WsCore.Mdns;
using WsCore.Probe;
using WsCore.Targets;
using WsCore.WebSockets.Client;

// Usage (all durations in milliseconds; -v logs at Debug to stderr; --interface NAME picks one interface):
//   MdnsDriver resolve NAME TIMEOUT_MS       →
// {"ok":true,"host":…,"addresses":[…],"interface":…,"elapsedMs":…,"queries":…}
//   MdnsDriver browse TYPE DURATION_MS       →
// {"ok":true,"instances":[{"instance":…,"host":…,"port":…,"addresses":[…],"txt":{…}}]}
//   MdnsDriver discover DURATION_MS          → {"ok":true,"devices":[{"instance":…,"uri":…}]}
//   MdnsDriver resolve-stage TARGET TIMEOUT_MS → {"ok":…,"succeeded":…,"detail":…,"failure":…,"elapsedMs":…} (probe's
// resolve stage)
//   MdnsDriver respond NAME PORT [--no-probe] → {"ready":true,…}, then on stdin EOF / SIGINT / SIGTERM: goodbye,
// {"stopped":true} A WsCoreException prints {"ok":false,"kind":…,"message":…,"elapsedMs":…} and exits 3
// (NameNotResolved) or 2.
var positional = args
    .Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && a != "-v"
        && (i == 0 || args[i - 1] != "--interface"))
    .ToList();
var interfaceName = OptionValue(args, "--interface");
var logger = new LoggerConfiguration()
    .MinimumLevel.Is(args.Contains("-v") ? LogEventLevel.Debug : LogEventLevel.Warning)
    .WriteTo.Console(standardErrorFromLevel: LogEventLevel.Verbose)
    .CreateLogger();
var options = new MdnsOptions { InterfaceName = interfaceName };
var clock = Stopwatch.StartNew();
try
{
    switch (positional.FirstOrDefault())
    {
        case "resolve" when positional.Count == 3:
            var result = await new MdnsClient(logger).ResolveAsync(positional[1], Ms(positional[2]), options);
            Print(w =>
            {
                w.WriteBoolean("ok", true);
                w.WriteString("host", result.HostName);
                w.WriteStartArray("addresses");
                foreach (var a in result.Addresses)
                    w.WriteStringValue(a.ToString());
                w.WriteEndArray();
                w.WriteString("interface", result.InterfaceName);
                w.WriteNumber("elapsedMs", (int)result.Elapsed.TotalMilliseconds);
                w.WriteNumber("queries", result.QueriesSent);
            });
            return 0;
        case "browse" when positional.Count == 3:
            var instances = await new MdnsClient(logger).BrowseAsync(positional[1], Ms(positional[2]), options);
            Print(w =>
            {
                w.WriteBoolean("ok", true);
                w.WriteStartArray("instances");
                foreach (var i in instances)
                {
                    w.WriteStartObject();
                    w.WriteString("instance", i.InstanceName);
                    w.WriteString("host", i.HostName);
                    w.WriteNumber("port", i.Port);
                    w.WriteString("interface", i.InterfaceName);
                    w.WriteStartArray("addresses");
                    foreach (var a in i.Addresses)
                        w.WriteStringValue(a.ToString());
                    w.WriteEndArray();
                    w.WriteStartObject("txt");
                    foreach (var (k, v) in i.Txt)
                        w.WriteString(k, v);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
            return 0;
        case "resolve-stage" when positional.Count == 3:
            var report = new ProbeReport(WebSocketTarget.Parse(positional[1]));
            var resolved = await report.ResolveAsync(new HostResolver(logger), Ms(positional[2]), options);
            var stage = report.Stages[0];
            Print(w =>
            {
                w.WriteBoolean("ok", resolved);
                w.WriteString("stage", stage.Stage.ToString());
                w.WriteBoolean("succeeded", stage.Succeeded);
                w.WriteString("detail", stage.Detail);
                w.WriteString("failure", stage.Failure?.ToString());
                w.WriteNumber("elapsedMs", (int)stage.Elapsed.TotalMilliseconds);
                w.WriteString("verdict", report.Verdict.ToString());
            });
            return resolved ? 0 : 3;
        case "discover" when positional.Count == 2:
            var devices = await new DeviceDiscovery(logger).DiscoverAsync(Ms(positional[1]), options);
            Print(w =>
            {
                w.WriteBoolean("ok", true);
                w.WriteStartArray("devices");
                foreach (var d in devices)
                {
                    w.WriteStartObject();
                    w.WriteString("instance", d.Instance.InstanceName);
                    w.WriteString("uri", d.Uri?.ToString());
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
            return 0;
        case "respond" when positional.Count == 3:
            {
                var port = int.Parse(positional[2], CultureInfo.InvariantCulture);
                var service = ServiceAdvertisement.WebSocket(positional[1], port, "/", 5, "test");
                var responderOptions = new MdnsResponderOptions
                {
                    Network = options,
                    Probe = !args.Contains("--no-probe")
                };
                var stop = new TaskCompletionSource();
                using var sigint = PosixSignalRegistration.Create(
                    PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
                using var sigterm = PosixSignalRegistration.Create(
                    PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
                _ =
                    Task.Run(
                        async () => { while (await Console.In.ReadLineAsync() is not null) { } stop.TrySetResult(); });
                await using (var responder = await MdnsResponder.StartAsync(
                    positional[1], service, responderOptions, logger))
                {
                    Print(w =>
                    {
                        w.WriteBoolean("ready", true);
                        w.WriteString("host", responder.HostName);
                        w.WriteString("instance", responder.ServiceInstanceName);
                        w.WriteString("interfaces", string.Join(",", responder.Interfaces.Select(i => i.Name)));
                    });
                    await stop.Task;
                }
                Print(w => w.WriteBoolean("stopped", true));
                return 0;
            }
        default:
            Console.Error.WriteLine("usage: MdnsDriver resolve NAME TIMEOUT_MS | browse TYPE DURATION_MS | discover " +
                "DURATION_MS | respond NAME PORT [--no-probe] [--interface IF] [-v]");
            return 1;
    }
}
catch (WsCoreException ex)
{
    Print(w =>
    {
        w.WriteBoolean("ok", false);
        w.WriteString("kind", ex.Kind.ToString());
        w.WriteString("message", ex.Message);
        w.WriteString("hint", ex.Hint);
        w.WriteNumber("elapsedMs", (int)clock.Elapsed.TotalMilliseconds);
    });
    return ex.Kind == FailureKind.NameNotResolved ? 3 : 2;
}
finally
{
    logger.Dispose();
}

static TimeSpan Ms(string text) => TimeSpan.FromMilliseconds(int.Parse(text, CultureInfo.InvariantCulture));

static string? OptionValue(string[] args, string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

static void Print(Action<Utf8JsonWriter> body)
{
    using var stdout = Console.OpenStandardOutput();
    using (var writer = new Utf8JsonWriter(stdout))
    {
        writer.WriteStartObject();
        body(writer);
        writer.WriteEndObject();
    }
    stdout.WriteByte((byte)'\n');
    stdout.Flush();
}

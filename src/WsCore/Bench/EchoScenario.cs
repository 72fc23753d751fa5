using WsCore.WebSockets.Protocol;

namespace WsCore.Bench;

/// <summary>
/// <see cref="BenchMode.Echo"/>: each client sends a binary message and waits for the server to send it back (a
/// server that echoes: <c>wsctl serve --echo</c>, <c>ws_server_host --echo</c>, a board flashed with --device-echo).
/// With <see cref="BenchOptions.JsonPayload"/> the messages are JSON text like the firmware's counter.
/// </summary>
internal sealed class EchoScenario(BenchRun run) : RoundTripScenario(
    run,
    run.Options.JsonPayload ? Opcode.Text : Opcode.Binary,
    run.Options.JsonPayload ? Opcode.Text : Opcode.Binary,
    "echo");

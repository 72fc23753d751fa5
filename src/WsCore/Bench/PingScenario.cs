using WsCore.WebSockets.Protocol;

namespace WsCore.Bench;

/// <summary>
/// <see cref="BenchMode.Ping"/>: each client sends a ping and waits for the pong carrying its payload. Every RFC 6455
/// server answers so (§5.5.2, §5.5.3), so this measures a device as it is.
/// </summary>
internal sealed class PingScenario(BenchRun run) : RoundTripScenario(run, Opcode.Ping, Opcode.Pong, "pong");

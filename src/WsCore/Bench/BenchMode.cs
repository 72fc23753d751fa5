namespace WsCore.Bench;

/// <summary>What the load generator does.</summary>
public enum BenchMode
{
    /// <summary>
    /// Every client sends a ping and waits for its pong (closed loop), every byte checked. Needs nothing from the
    /// server beyond RFC 6455 itself: a pong answering a ping carries the ping's payload (§5.5.2, §5.5.3).
    /// </summary>
    Ping,
    /// <summary>
    /// Every client sends a message and waits for its echo (closed loop), every byte checked; needs an echoing server.
    /// </summary>
    Echo,
    /// <summary>One client sends to a relaying server; every client counts what arrives.</summary>
    Broadcast,
    /// <summary>Clients connect, handshake and close, over and over: connects per second.</summary>
    Connect,
    /// <summary>Clients connect and stay idle (answering pings); how many are still alive at the end.</summary>
    Idle,
}

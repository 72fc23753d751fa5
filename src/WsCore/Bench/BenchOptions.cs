namespace WsCore.Bench;

/// <summary>Settings of one load run.</summary>
/// <param name="Target">The server: a ws:// URL.</param>
/// <param name="Mode">The scenario.</param>
/// <param name="Clients">How many connections (connect mode: how many connect loops).</param>
/// <param name="MessageBytes">
/// Payload size of each message: at least <see cref="LoadGenerator.MinMessageBytes"/>; in ping mode at most
/// <see cref="LoadGenerator.MaxPingBytes"/>.
/// </param>
/// <param name="Duration">How long to measure.</param>
/// <param name="Rate">
/// Messages per second in all (ping and echo: spread over the clients; broadcast: the sender's); null: as fast as
/// the server goes.
/// </param>
public sealed record BenchOptions(
    Uri Target, BenchMode Mode, int Clients, int MessageBytes, TimeSpan Duration, double? Rate = null)
{
    /// <summary>
    /// More servers to spread the connections over (the instances of a <c>serve --cluster</c>): connection i goes to
    /// server i mod N of <see cref="Target"/> and these, in that order. Connect mode uses <see cref="Target"/> only.
    /// </summary>
    public IReadOnlyList<Uri> AlsoTargets { get; init; } = [];

    /// <summary>
    /// Resolves the targets' host names (as <see cref="WsCore.WebSockets.Client.WebSocketClientOptions.Resolve"/>:
    /// wsctl passes its mDNS-aware resolver, so NAME.local works as in send and probe); null: the system resolver.
    /// </summary>
    public Func<string, CancellationToken, Task<System.Net.IPAddress[]>>? Resolve { get; init; }

    /// <summary>
    /// How long resolving a target's name may take (mDNS has no negative answer: an unknown name takes all of it).
    /// </summary>
    public TimeSpan ResolveTimeout { get; init; } = DefaultResolveTimeout;

    /// <summary>The default <see cref="ResolveTimeout"/>.</summary>
    public static readonly TimeSpan DefaultResolveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Offer permessage-deflate (RFC 7692) on every connection: what the server accepts is compressed both ways, and
    /// the result counts the bytes on the wire.
    /// </summary>
    public bool Compression { get; init; }

    /// <summary>
    /// Echo: send JSON text messages like the firmware's counter (<c>{"seq":…,"type":"message","data":{"sensor":
    /// "counter","value":N}}</c>, padded with more readings to the size) instead of binary ones: the traffic
    /// compression is for.
    /// </summary>
    public bool JsonPayload { get; init; }

    /// <summary>Connections opened at once while ramping up.</summary>
    public int ConnectConcurrency { get; init; } = 64;

    /// <summary>Broadcast: messages the sender may have in flight (sent but not yet back to itself).</summary>
    public int BroadcastWindow { get; init; } = 32;

    /// <summary>
    /// Ping and echo: how long a client waits for the answer to its message. Past it the message counts as lost and
    /// that client stops: a server that did not answer one message will not answer the next.
    /// </summary>
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a connection may take to connect and complete its handshake: a server that accepts and never answers
    /// fails the connection (counted as a connect failure) instead of holding the run open.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often the progress callback of <see cref="LoadGenerator.RunAsync"/> hears how the run goes.
    /// </summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);
}

namespace WsCore.Cluster;

/// <summary>
/// The shared store and message bus between the instances of a cluster: what <see cref="ClusterNode"/> needs from
/// Redis, as operations. Every operation that needs the store throws <see cref="WsCoreException"/>
/// (ConnectionEnded) while it is unreachable; none blocks longer than the store's own timeout.
/// </summary>
/// <remarks>Thread-safety: every member may be called from any thread.</remarks>
public interface IClusterBackplane : IAsyncDisposable
{
    /// <summary>Where the store is, for messages (e.g. <c>redis://127.0.0.1:6379/0</c>).</summary>
    string Description { get; }

    /// <summary>True while the store is reachable.</summary>
    bool IsConnected { get; }

    /// <summary>
    /// Raised when the connection is lost (false, with the reason) and when it is back (true, with how long it
    /// was gone). The backplane reconnects by itself, with backoff.
    /// </summary>
    event Action<bool, string>? ConnectionChanged;

    /// <summary>
    /// Subscribes to the cluster's bus and to <paramref name="instance"/>'s own channel; every message on either
    /// reaches <paramref name="onMessage"/>, one at a time, in the order the store delivered them. Subscriptions are
    /// renewed by the backplane after a reconnect.
    /// </summary>
    Task SubscribeAsync(string instance, Action<ReadOnlyMemory<byte>> onMessage);

    /// <summary>
    /// Publishes one message to the bus (<paramref name="toInstance"/> null) or to one instance's channel; returns
    /// how many instances were subscribed to receive it.
    /// </summary>
    Task<long> PublishAsync(string? toInstance, byte[] message);

    /// <summary>
    /// How long after the store accepts connections again every instance that was connected before is connected
    /// again at the latest: the reconnection backoff's longest wait and how often it is checked.
    /// </summary>
    TimeSpan ReconnectWithin { get; }

    /// <summary>
    /// Says that <paramref name="instance"/> is alive for another <paramref name="ttl"/> and holds
    /// <paramref name="clients"/> client slots; forgets instances whose time ran out (their slots come back).
    /// Raises the last client id and counter value to <paramref name="idFloor"/> and <paramref name="counterFloor"/>
    /// where they are lower (a store that lost its data learns them back from the live instances), and starts
    /// <paramref name="settle"/> when the store holds nothing of the cluster. Returns every live instance with the
    /// slots it holds.
    /// </summary>
    Task<IReadOnlyDictionary<string, int>> HeartbeatAsync(string instance, int clients, TimeSpan ttl, int idFloor,
        long counterFloor, IdSettle settle);

    /// <summary>The instances alive now (their heartbeat not yet run out), with the client slots each holds.</summary>
    Task<IReadOnlyDictionary<string, int>> LiveInstancesAsync();

    /// <summary>
    /// Takes one client slot for <paramref name="instance"/> when the cluster holds fewer than
    /// <paramref name="max"/>; false when it is full.
    /// </summary>
    Task<bool> TryTakeSlotAsync(string instance, int max, TimeSpan ttl);

    /// <summary>Gives one of <paramref name="instance"/>'s slots back.</summary>
    Task ReleaseSlotAsync(string instance);

    /// <summary>
    /// Takes or renews the counter lease for <paramref name="instance"/>: true while it holds it (for
    /// <paramref name="lease"/> from now), false when another instance does.
    /// </summary>
    Task<bool> TryHoldLeaseAsync(string instance, TimeSpan lease);

    /// <summary>
    /// The next value of the cluster's counter: one more than the last, and more than <paramref name="floor"/>
    /// (the highest value this instance has seen), so a store that lost its data never repeats a value.
    /// </summary>
    Task<long> NextCounterAsync(long floor);

    /// <summary>
    /// Reserves <paramref name="count"/> client ids no other instance gets, all above <paramref name="floor"/> and
    /// every floor the live instances have raised the last id to; or, while <paramref name="settle"/> runs (the store
    /// lost its data, or never had the cluster's), raises the last id to <paramref name="floor"/> and says how long
    /// blocks are still held back.
    /// </summary>
    Task<IdReservation> ReserveIdsAsync(int count, int floor, IdSettle settle);

    /// <summary>Removes <paramref name="instance"/> at once: its slots, its liveness, its lease.</summary>
    Task LeaveAsync(string instance);
}

/// <summary>
/// How long a store that holds nothing of the cluster holds client-id blocks back, so that every instance still
/// running (with ids from blocks the store has forgotten) has raised the last id above its own first: the settle
/// starts when the store finds the cluster's state missing, and ends at the later of the two times below.
/// </summary>
/// <param name="AfterStoreStart">From when the store started (it restarted empty): time for every instance to
/// reconnect and send a heartbeat.</param>
/// <param name="AfterFound">From when the state was found missing while the store kept running (flushed, evicted):
/// time for every live instance's next heartbeat.</param>
public readonly record struct IdSettle(TimeSpan AfterStoreStart, TimeSpan AfterFound);

/// <summary>The answer to <see cref="IClusterBackplane.ReserveIdsAsync"/>.</summary>
/// <param name="First">The first id of the block reserved, or 0 while blocks are held back.</param>
/// <param name="HeldBackFor">How much longer blocks are held back (zero when <paramref name="First"/> is an
/// id).</param>
public readonly record struct IdReservation(int First, TimeSpan HeldBackFor);

using System.Diagnostics;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace WsCore.Cluster;

// The node's background work: heartbeat and lease, the counter, messages from other instances, requests and replies,
// and what happens when Redis goes away and comes back.
public sealed partial class ClusterNode
{
    private async Task HeartbeatLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.Lease / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (!_backplane.IsConnected)
                {
                    LostLease();
                    LogUndelivered(final: false);
                    continue;
                }
                try
                {
                    if (!_subscribed)
                        await JoinAsync();
                    else
                        await HeartbeatAsync();
                }
                catch (WsCoreException e)
                {
                    _log.Debug("heartbeat: {Error}", e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HeartbeatAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var live = await _backplane.HeartbeatAsync(Instance, Volatile.Read(ref _slotsHeld), _options.Lease, IdFloor(),
            Interlocked.Read(ref _highestCounter), Settle);
        TopUpIds();
        Volatile.Write(ref _otherInstances, live.Count(i => i.Key != Instance));
        Volatile.Write(ref _otherClients, live.Where(i => i.Key != Instance).Sum(i => i.Value));
        if (_options.CounterInterval is not null)
        {
            if (await _backplane.TryHoldLeaseAsync(Instance, _options.Lease))
            {
                // Counted from before the request: the lease may have been renewed that long before we heard.
                var held = (long)(_options.Lease.TotalSeconds * 0.9 * Stopwatch.Frequency);
                Volatile.Write(ref _leaseUntil, started + held);
                if (!Volatile.Read(ref _leader))
                {
                    Volatile.Write(ref _leader, true);
                    _log.Information("counter lease taken: {Instance} publishes the cluster's counter", Instance);
                }
            }
            else
            {
                LostLease();
            }
        }
        var missed = Interlocked.Read(ref _missed);
        if (missed != _missedLogged)
        {
            _log.Warning("{Count} cluster message(s) so far reached fewer instances than were alive " +
                "(one cut off or gone)", missed);
            _missedLogged = missed;
        }
    }

    private void LostLease()
    {
        if (Volatile.Read(ref _leader))
        {
            Volatile.Write(ref _leader, false);
            Volatile.Write(ref _leaseUntil, 0);
            // Without Redis nobody can draw counter values (they come from INCR), so nobody publishes the counter;
            // with it, the lease went to another instance.
            if (_backplane.IsConnected)
                _log.Information("counter lease lost: another instance publishes the counter");
            else
                _log.Warning("counter stopped: Redis is unreachable, and no instance publishes the counter " +
                    "until it is back");
        }
    }

    private async Task CounterLoopAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (Stopwatch.GetTimestamp() >= Volatile.Read(ref _leaseUntil) || !_backplane.IsConnected)
                    continue;
                long value;
                try
                {
                    // Redis's INCR makes the values unique; the floor keeps them above any this instance has seen.
                    value = await _backplane.NextCounterAsync(Interlocked.Read(ref _highestCounter));
                }
                catch (WsCoreException e)
                {
                    _log.Debug("counter: {Error}", e.Message);
                    continue;
                }
                SawCounter(value);
                _server?.SendText(WebSocketServer.AllClients, _options.CounterText(value));
                var counter = new ClusterMessage(ClusterMessageKind.Counter, Instance) { Counter = value };
                Publish(null, ClusterCodec.Encode(counter), countMissed: true);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void SawCounter(long value)
    {
        var seen = Interlocked.Read(ref _highestCounter);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref _highestCounter, value, seen);
            if (was == seen)
                return;
            seen = was;
        }
    }

    // Called by the backplane one message at a time per channel, in the order Redis delivered them.
    private void OnMessage(ReadOnlyMemory<byte> data)
    {
        var message = ClusterCodec.Decode(data, out var error);
        if (message is null)
        {
            _log.Warning("dropped a malformed cluster message ({Error})", error);
            return;
        }
        // Our own publications come back too: our clients had them already.
        if (message.Origin == Instance || _server is not { } server)
            return;
        switch (message.Kind)
        {
            case ClusterMessageKind.Broadcast:
                server.Send(WebSocketServer.AllClients, message.Type, message.Payload.Span);
                break;
            case ClusterMessageKind.Counter:
                SawCounter(message.Counter);
                server.SendText(WebSocketServer.AllClients, _options.CounterText(message.Counter));
                break;
            case ClusterMessageKind.Request:
                Answer(server, message);
                break;
            case ClusterMessageKind.Reply:
                if (_pending.TryGetValue(message.RequestId, out var pending))
                    pending.Add(message);
                break;
        }
    }

    private void Answer(WebSocketServer server, ClusterMessage request)
    {
        var reply = request.Operation == ClusterRequestOperation.List
            ? new ClusterMessage(ClusterMessageKind.Reply, Instance) { Ok = true, Clients = [.. LocalClients()] }
            : new ClusterMessage(ClusterMessageKind.Reply, Instance)
            {
                Ok = request.ClientId > 0 && server.Send(request.ClientId, request.Type, request.Payload.Span) > 0,
            };
        Publish(request.Origin, ClusterCodec.Encode(reply with { RequestId = request.RequestId }), countMissed: false);
    }

    // Publishes a request to every other live instance and waits for their replies (or the request timeout).
    private async Task<PendingRequest> AskAsync(ClusterMessage request)
    {
        var id = Interlocked.Increment(ref _nextRequestId);
        IReadOnlyDictionary<string, int> live;
        try
        {
            live = await _backplane.LiveInstancesAsync();
        }
        catch (WsCoreException e)
        {
            _log.Warning("cluster request not sent: {Error}", e.Message);
            return new PendingRequest(request.Operation, []);
        }
        var pending = new PendingRequest(request.Operation, live.Keys.Where(i => i != Instance));
        if (pending.Expected == 0)
            return pending;
        _pending[id] = pending;
        try
        {
            Publish(null, ClusterCodec.Encode(request with { RequestId = id }), countMissed: false);
            await pending.Done.Task.WaitAsync(_options.RequestTimeout);
        }
        catch (TimeoutException)
        {
            _log.Warning("no answer within {Timeout} from instance(s) {Instances}", _options.RequestTimeout,
                string.Join(", ", pending.Unanswered()));
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
        return pending;
    }

    private void Publish(string? toInstance, byte[] message, bool countMissed)
    {
        if (!_backplane.IsConnected || !_subscribed)
        {
            Interlocked.Increment(ref _undelivered);
            return;
        }
        // Every live instance (this one too) is subscribed to the bus: fewer receivers means one missed it.
        var expected = Volatile.Read(ref _otherInstances) + 1;
        _backplane.PublishAsync(toInstance, message).ContinueWith(task =>
        {
            if (task.Exception is { } failed)
                PublishFailed(failed.GetBaseException());
            else if (countMissed && task.Result < expected)
                Interlocked.Increment(ref _missed);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // A publish that failed on its way (Redis timed out or went away meanwhile): counted with the undelivered, and
    // said in one line at most every 10 s (a burst of broadcasts fails together); the library's diagnostic dump
    // (queues, thread pool, versions) is for debug logs only.
    private void PublishFailed(Exception error)
    {
        Interlocked.Increment(ref _undelivered);
        _log.Debug(error, "cluster publish failed");
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastPublishFailureLog);
        if ((last != 0 && now - last < 10_000)
            || Interlocked.CompareExchange(ref _lastPublishFailureLog, now, last) != last)
            return;
        _log.Warning("a cluster message could not be published: {Error}", FirstLine(error.Message));
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    private void OnConnectionChanged(bool connected, string detail)
    {
        if (!connected)
        {
            Volatile.Write(ref _undeliveredAtLoss, Interlocked.Read(ref _undelivered));
            _log.Warning("lost the cluster's Redis at {Redis} ({Reason}): this instance's clients are still served, " +
                "cluster messages are not; reconnecting with backoff", _backplane.Description, detail);
            return;
        }
        _admissionWarned = false;
        var total = Interlocked.Read(ref _undelivered);
        Volatile.Write(ref _undeliveredLogged, total);
        _log.Warning("the cluster's Redis at {Redis} is back after {Outage}; {Count} cluster message(s) could not be " +
            "delivered meanwhile", _backplane.Description, detail, total - Volatile.Read(ref _undeliveredAtLoss));
    }

    // While Redis stays away: the count since it went, at most every 10 s; at the end, any not yet reported.
    private void LogUndelivered(bool final)
    {
        var now = Environment.TickCount64;
        var total = Interlocked.Read(ref _undelivered);
        if (total == Volatile.Read(ref _undeliveredLogged) || (!final && now - _lastOutageLog < 10_000))
            return;
        _lastOutageLog = now;
        Volatile.Write(ref _undeliveredLogged, total);
        _log.Warning("{Count} cluster message(s) could not be delivered since the cluster's Redis at {Redis} went away",
            total - Volatile.Read(ref _undeliveredAtLoss), _backplane.Description);
    }

    /// <summary>Replies gathered for one request.</summary>
    private sealed class PendingRequest
    {
        private readonly ClusterRequestOperation _operation;
        private readonly HashSet<string> _expected;
        private readonly List<ClusterClient> _clients = [];

        public PendingRequest(ClusterRequestOperation operation, IEnumerable<string> expected)
        {
            _operation = operation;
            _expected = [.. expected];
            Expected = _expected.Count;
        }

        public int Expected { get; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Delivered { get; private set; }

        public IReadOnlyList<ClusterClient> Clients
        {
            get
            {
                lock (_clients)
                    return [.. _clients];
            }
        }

        public string[] Unanswered()
        {
            lock (_clients)
                return [.. _expected];
        }

        public void Add(ClusterMessage reply)
        {
            lock (_clients)
            {
                if (!_expected.Remove(reply.Origin))
                    return;
                _clients.AddRange(reply.Clients);
                Delivered |= _operation == ClusterRequestOperation.Send && reply.Ok;
                if (Delivered || _expected.Count == 0)
                    Done.TrySetResult();
            }
        }
    }
}

namespace WsCore;

/// <summary>
/// When a wait must be over, on a monotonic clock (<see cref="TimeProvider.GetTimestamp"/>, the system's is
/// <see cref="System.Diagnostics.Stopwatch"/>): a change of the wall clock (an NTP step, a user setting the date)
/// neither ends a wait early nor stretches it.
/// </summary>
internal readonly struct Deadline
{
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly TimeSpan _timeout;

    private Deadline(TimeProvider time, TimeSpan timeout) =>
        (_time, _start, _timeout) = (time, time.GetTimestamp(), timeout);

    /// <summary>The deadline <paramref name="timeout"/> from now on <paramref name="time"/>'s clock.</summary>
    public static Deadline After(TimeSpan timeout, TimeProvider? time = null) =>
        new(time ?? TimeProvider.System, timeout);

    /// <summary>The time left until the deadline; zero or less once it has passed.</summary>
    public TimeSpan Left => _timeout - _time.GetElapsedTime(_start);
}

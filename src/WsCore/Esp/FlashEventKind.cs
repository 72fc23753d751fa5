namespace WsCore.Esp;

/// <summary>What a flashing run reports to its front end.</summary>
public enum FlashEventKind
{
    Connecting,
    Connected,
    RegionStarted,
    RegionProgress,
    RegionSkipped,
    RegionVerified,
    Retrying,
    Resetting,
    Done,
}

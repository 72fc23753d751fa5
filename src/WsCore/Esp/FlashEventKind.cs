namespace WsCore.Esp;

/// <summary>What a run on the device (a write, a read, an erase, a check) reports to its front end.</summary>
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
    /// <summary>A read of a range starts (Total: its length).</summary>
    ReadStarted,
    /// <summary>A range was read and its MD5 matched the flash's own (Message: the MD5 of the bytes read).</summary>
    RegionRead,
    /// <summary>An erase starts (Total: its length).</summary>
    EraseStarted,
    /// <summary>A range was erased and reads back as 0xFF.</summary>
    RegionErased,
    /// <summary>A region's MD5 on the chip is not its file's (Message: the chip's MD5).</summary>
    RegionDiffers,
}

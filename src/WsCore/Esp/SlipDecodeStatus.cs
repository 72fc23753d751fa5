namespace WsCore.Esp;

/// <summary>What <see cref="SlipDecoder.Decode"/> stopped on.</summary>
public enum SlipDecodeStatus
{
    /// <summary>All input was consumed without completing a frame.</summary>
    NeedMoreData,
    /// <summary>A complete, non-empty frame is available.</summary>
    Frame,
    /// <summary>0xDB was followed by something other than DC/DD; the partial frame was dropped.</summary>
    BadEscape,
    /// <summary>
    /// The frame grew past <see cref="SlipDecoder.MaxFrameLength"/>: it was dropped and counted as noise, and so is
    /// everything up to the next 0xC0.
    /// </summary>
    FrameTooLong,
}

namespace WsCore.Esp;

/// <summary>
/// The answer arrived but its status could not be read (bytes lost on the line): the loader may or may not have
/// acted on the request.
/// </summary>
public sealed class RomMalformedResponseException(RomCommand command)
    : Exception($"the answer to {command} was garbled on the line")
{
    public RomCommand Command { get; } = command;
}

namespace WsCore.Esp;

/// <summary>What to do after flashing (esptool's <c>after</c>).</summary>
public enum AfterReset
{
    HardReset,
    NoReset,
}

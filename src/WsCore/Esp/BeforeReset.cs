namespace WsCore.Esp;

/// <summary>Which reset to use before connecting (esptool's <c>before</c>).</summary>
public enum BeforeReset
{
    DefaultReset,
    NoReset,
}

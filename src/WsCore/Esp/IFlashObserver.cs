namespace WsCore.Esp;

/// <summary>Receives progress events. Implementations render them (a bar, plain lines, JSON).</summary>
public interface IFlashObserver
{
    void OnEvent(in FlashEvent e);
}

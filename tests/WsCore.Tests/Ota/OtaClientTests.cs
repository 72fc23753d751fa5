using System.Collections.Concurrent;
using WsCore.Ota;

namespace WsCore.Tests.Ota;

/// <summary>
/// <see cref="OtaClient"/> and <see cref="OtaFleet"/> against <see cref="OtaDeviceSimulator"/> on loopback: the
/// outcomes, the window kept, and every wait bounded.
/// </summary>
public sealed class OtaClientTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];
    private static readonly OtaImage Old = OtaImage.Parse(OtaTestImage.Build("esp32ws", "1.2.0", 4096), "old");
    private static readonly OtaImage New = OtaImage.Parse(OtaTestImage.Build("esp32ws", "1.3.0", 300 * 1024), "new");
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private sealed class Recorder : IOtaObserver
    {
        public ConcurrentQueue<OtaEvent> Events { get; } = new();

        public void OnEvent(OtaEvent e) => Events.Enqueue(e);

        public IEnumerable<OtaEventKind> Kinds => Events.Select(e => e.Kind).Where(k => k != OtaEventKind.Progress
            && k != OtaEventKind.Waiting);
    }

    private static OtaOptions Options(byte[]? key = null) => new()
    {
        Key = key ?? Key,
        Timeout = TimeSpan.FromSeconds(10),
        ConfirmTimeout = TimeSpan.FromSeconds(20),
    };

    private static async Task<OtaResult> UpdateAsync(OtaDeviceSimulator device, OtaImage image, OtaOptions options,
        IOtaObserver? observer = null)
    {
        using var limit = new CancellationTokenSource(Limit);
        return await new OtaClient(options, observer).UpdateAsync(device.Endpoint, "dev", image, limit.Token);
    }

    [Fact]
    public async Task Update_DeviceComesBack_ConfirmedAndRunningTheNewImage()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old);
        var events = new Recorder();

        var result = await UpdateAsync(device, New, Options(), events);

        Assert.Equal(OtaOutcome.Updated, result.Outcome);
        Assert.Equal(("1.2.0", "1.3.0"), (result.Before.Version, result.After.Version));
        Assert.Equal(New.ElfSha256Hex, device.Running.ElfSha256Hex);
        Assert.False(device.Pending);
        Assert.Equal([OtaEventKind.Hello, OtaEventKind.Authenticated, OtaEventKind.Rebooting, OtaEventKind.Hello,
            OtaEventKind.Confirmed], events.Kinds);
        var progress = events.Events.Where(e => e.Kind == OtaEventKind.Progress).Select(e => e.Done).ToList();
        Assert.Equal(New.Data.Length, progress[^1]);
        Assert.Equal(progress.Order(), progress);
        Assert.True(device.LargestFrame <= OtaProtocol.MaxFrameBytes, $"a frame of {device.LargestFrame} bytes");
    }

    [Fact]
    public async Task Update_SlowAcknowledgements_NeverMoreThanTheWindowInFlight()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old, d =>
        {
            d.Window = 40 * 1024;
            d.AckEvery = 8 * 1024;
            d.AckDelay = TimeSpan.FromMilliseconds(5);
        });

        await UpdateAsync(device, New, Options());

        Assert.InRange(device.MostUnacknowledged, 1, 40 * 1024);
    }

    [Fact]
    public async Task Update_AnotherKey_AuthenticationFailed_NothingChanged()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old);
        var events = new Recorder();

        var e = await Assert.ThrowsAsync<OtaException>(() => UpdateAsync(device, New, Options(new byte[32]), events));

        Assert.Equal((OtaOutcome.AuthenticationFailed, FailureKind.AuthenticationFailed, InputField.OtaKey),
            (e.Outcome, e.Kind, e.HintField));
        Assert.Equal("auth_failed", e.DeviceCode);
        Assert.Equal(Old.ElfSha256Hex, device.Running.ElfSha256Hex);
        Assert.Equal(0, device.Restarts);
    }

    [Fact]
    public async Task Update_NewAppPanicsAtStart_RolledBackWithTheReason()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old);
        var crashing = OtaImage.Parse(OtaTestImage.Build("esp32ws", "1.3.0+panic-at-start", 8192), "crash");
        var events = new Recorder();

        var e = await Assert.ThrowsAsync<OtaException>(() => UpdateAsync(device, crashing, Options(), events));

        Assert.Equal((OtaOutcome.RolledBack, FailureKind.VerificationFailed, "panic"), (e.Outcome, e.Kind, e.Reason));
        Assert.Contains("rolled back to 1.2.0", e.Message, StringComparison.Ordinal);
        Assert.Contains(events.Events, x => x.Kind == OtaEventKind.RolledBack && x.Detail == "panic");
        Assert.Equal(Old.ElfSha256Hex, device.Running.ElfSha256Hex);
    }

    [Fact]
    public async Task Update_NoConfirm_PendingThenTheDeviceRollsBackAtItsDeadline()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old,
            d => d.ConfirmDeadline = TimeSpan.FromSeconds(3));

        var result = await UpdateAsync(device, New, Options() with { Confirm = false });

        Assert.Equal(OtaOutcome.Pending, result.Outcome);
        Assert.True(result.After.IsPending);
        // Its deadline passes unconfirmed: the next update attempt finds it back on 1.2.0 with the reason (once it
        // listens again: connecting in the moment between the rollback and the restart would be refused).
        using var limit = new CancellationTokenSource(Limit);
        while (device.Running.ElfSha256Hex != Old.ElfSha256Hex || !device.Serving)
            await Task.Delay(20, limit.Token);
        var again = await UpdateAsync(device, Old, Options());
        Assert.Equal(OtaOutcome.Current, again.Outcome);
        Assert.Equal(new OtaLastUpdate("rolled_back", "1.3.0", "not_confirmed"), again.Before.LastUpdate);
    }

    [Fact]
    public async Task Update_LeftPending_RunAgainConfirmsWithoutSending()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old);
        await UpdateAsync(device, New, Options() with { Confirm = false });
        Assert.True(device.Pending);

        var result = await UpdateAsync(device, New, Options());

        Assert.Equal((OtaOutcome.Updated, 0L), (result.Outcome, result.BytesSent));
        Assert.False(device.Pending);
        Assert.Equal(1, device.Restarts);
    }

    [Fact]
    public async Task Update_DeviceNeverComesBack_NotConfirmedAtTheConfirmTimeout()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old, d => d.RestartDelay = null);

        var e = await Assert.ThrowsAsync<OtaException>(() =>
            UpdateAsync(device, New, Options() with { ConfirmTimeout = TimeSpan.FromSeconds(1) }));

        Assert.Equal((OtaOutcome.NotConfirmed, FailureKind.Timeout, InputField.OtaConfirmWait),
            (e.Outcome, e.Kind, e.HintField));
        Assert.Contains("did not come back within 1 s", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_AlreadyRunsIt_CurrentAndNothingSent()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old);

        var result = await UpdateAsync(device, Old, Options());

        Assert.Equal((OtaOutcome.Current, 0L, 0), (result.Outcome, result.BytesSent, device.Restarts));
    }

    [Theory]
    [InlineData("other", (ushort)5, "wrong_project")]
    [InlineData("esp32ws", (ushort)0, "wrong_chip")]
    public async Task Update_ImageTheDeviceWouldRefuse_RefusedBeforeBegin(string project, ushort chip, string code)
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old);
        var image = OtaImage.Parse(OtaTestImage.Build(project, "9.9.9", 4096, chip), "x");

        var e = await Assert.ThrowsAsync<OtaException>(() => UpdateAsync(device, image, Options()));

        Assert.Equal((OtaOutcome.Refused, FailureKind.InvalidInput, InputField.Firmware, code),
            (e.Outcome, e.Kind, e.Field, e.DeviceCode));
        Assert.Equal(0, device.Restarts);
    }

    [Fact]
    public async Task Update_OtherProjectForced_Updated()
    {
        await using var device = await OtaDeviceSimulator.StartAsync(Key, Old);
        var other = OtaImage.Parse(OtaTestImage.Build("other", "1.0.0", 4096), "other");

        var result = await UpdateAsync(device, other, Options() with { Force = true });

        Assert.Equal(OtaOutcome.Updated, result.Outcome);
        Assert.Equal("other", device.Running.Project);
    }

    [Fact]
    public async Task Fleet_CanaryFails_TheRestSkippedAndUntouched()
    {
        var devices = new List<OtaDeviceSimulator>();
        try
        {
            // The canary has another key than the rest: it fails, and nobody else is updated.
            devices.Add(await OtaDeviceSimulator.StartAsync(new byte[32], Old));
            for (var i = 0; i < 4; i++)
                devices.Add(await OtaDeviceSimulator.StartAsync(Key, Old));
            var targets = devices.Select((d, i) => ($"dev{i}", d.Endpoint)).ToList();
            using var limit = new CancellationTokenSource(Limit);

            var results = await new OtaFleet(Options()).RunAsync(targets, New, canary: 1, parallel: 4, limit.Token);

            Assert.Equal([OtaOutcome.AuthenticationFailed, OtaOutcome.Skipped, OtaOutcome.Skipped, OtaOutcome.Skipped,
                OtaOutcome.Skipped], results.Select(r => r.Outcome));
            Assert.All(devices, d => Assert.Equal(0, d.Restarts));
        }
        finally
        {
            foreach (var device in devices)
                await device.DisposeAsync();
        }
    }

    [Fact]
    public async Task Fleet_CanariesPass_EveryDeviceUpdated_AtMostParallelAtOnce()
    {
        var devices = new List<OtaDeviceSimulator>();
        try
        {
            for (var i = 0; i < 5; i++)
                devices.Add(await OtaDeviceSimulator.StartAsync(Key, Old));
            var targets = devices.Select((d, i) => ($"dev{i}", d.Endpoint)).ToList();
            using var limit = new CancellationTokenSource(Limit);

            var results = await new OtaFleet(Options()).RunAsync(targets, New, canary: 2, parallel: 2, limit.Token);

            Assert.All(results, r => Assert.Equal(OtaOutcome.Updated, r.Outcome));
            Assert.Equal(["dev0", "dev1", "dev2", "dev3", "dev4"], results.Select(r => r.Target));
            Assert.All(devices, d => Assert.Equal(New.ElfSha256Hex, d.Running.ElfSha256Hex));
        }
        finally
        {
            foreach (var device in devices)
                await device.DisposeAsync();
        }
    }
}

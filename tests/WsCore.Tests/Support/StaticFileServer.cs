using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WsCore.Tests.Support;

/// <summary>
/// A folder served over http on a free loopback port by Kestrel, as any static web server would serve it (module
/// scripts as text/javascript), with every path a client asked for recorded. http://127.0.0.1 is a secure context to
/// a browser, as https is: what an ESP Web Tools page needs.
/// </summary>
public sealed class StaticFileServer : IAsyncDisposable
{
    private static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".json"] = "application/json",
        [".bin"] = "application/octet-stream",
    };

    private readonly WebApplication _app;

    private StaticFileServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/";

    /// <summary>The paths requested, in order.</summary>
    public ConcurrentQueue<string> Requested { get; } = new();

    public static async Task<StaticFileServer> StartAsync(string root)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        StaticFileServer? self = null;
        var full = Path.GetFullPath(root);
        app.Run(async context =>
        {
            var path = context.Request.Path.Value ?? "/";
            self!.Requested.Enqueue(path);
            var file = Path.GetFullPath(Path.Combine(full, path.TrimStart('/')));
            if (!file.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(file))
            {
                context.Response.StatusCode = 404;
                return;
            }
            context.Response.ContentType = Types.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream");
            await context.Response.SendFileAsync(file);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        self = new StaticFileServer(app, new Uri(address).Port);
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

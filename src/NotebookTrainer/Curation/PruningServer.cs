using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NotebookTrainer.Display;
using NotebookTrainer.Images;

namespace NotebookTrainer.Curation;

/// <summary>
/// The interactive tag pruning page: a small web app on 127.0.0.1 (random port) over one folder's captions. Every
/// request must name this server in its Host header (127.0.0.1 or localhost with our port, so a web page that rebinds
/// its own domain to 127.0.0.1 is refused) and carry the session token (query <c>token</c> or header
/// <c>X-Ntrain-Token</c>). Requests with missing fields get a 400 with the reason; every edit goes
/// through the folder's <see cref="CurationSession"/> and so its journal (undo/redo shared with the CLI and notebooks).
/// </summary>
public sealed class PruningServer : IAsyncDisposable, IDisposable, IHtmlRenderable
{
    const string TokenHeader = "X-Ntrain-Token";
    readonly WebApplication app;
    readonly CurationSession session;
    readonly object gate = new();

    public string Token { get; }
    /// <summary>The page address, token included: open this in a browser.</summary>
    public Uri Url { get; private set; } = null!;
    public string Folder => session.Folder;

    PruningServer(CurationSession session, string token)
    {
        this.session = session;
        Token = token;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(PruningServer).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        app = builder.Build();
        app.Use(RequireToken);
        Map(app);
    }

    /// <summary>Opens the folder (taking its curation lock) and starts the page.</summary>
    public static async Task<PruningServer> StartAsync(string folder, string captionExtension = ".txt", Tagging.SelectedTags? tagList = null, CancellationToken cancellationToken = default)
    {
        var session = CurationSession.Open(folder, captionExtension, tagList, holder: "a tag pruning page");
        var server = new PruningServer(session, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)));
        try
        {
            await server.app.StartAsync(cancellationToken).ConfigureAwait(false);
            var address = server.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server.Url = new Uri($"{address.TrimEnd('/')}/?token={server.Token}");
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static PruningServer Start(string folder, string captionExtension = ".txt", Tagging.SelectedTags? tagList = null) =>
        StartAsync(folder, captionExtension, tagList).GetAwaiter().GetResult();

    /// <summary>Completes when the page is stopped (by <see cref="StopAsync"/> or the token being cancelled).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => app.WaitForShutdownAsync(cancellationToken);

    public async Task StopAsync()
    {
        await app.StopAsync().ConfigureAwait(false);
    }

    async Task RequireToken(HttpContext context, RequestDelegate next)
    {
        var host = context.Request.Host;
        if (host.Host is not ("127.0.0.1" or "localhost") || host.Port != Url.Port)
        {
            context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
            await context.Response.WriteAsync($"This page answers only requests addressed to {Url.Authority}.").ConfigureAwait(false);
            return;
        }
        var given = context.Request.Headers[TokenHeader].FirstOrDefault() ?? context.Request.Query["token"].FirstOrDefault() ?? "";
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(given), Encoding.ASCII.GetBytes(Token)))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("This page needs its session token: open the full URL printed by 'ntrain curate' or the notebook.").ConfigureAwait(false);
            return;
        }
        context.Response.Headers["Cache-Control"] = "no-store";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await next(context).ConfigureAwait(false);
    }

    void Map(WebApplication web)
    {
        web.MapGet("/", () => Results.Content(Resource("index.html").Replace("__TOKEN__", Token), "text/html; charset=utf-8"));
        web.MapGet("/app.js", () => Results.Content(Resource("app.js"), "text/javascript; charset=utf-8"));
        web.MapGet("/app.css", () => Results.Content(Resource("app.css"), "text/css; charset=utf-8"));

        web.MapGet("/api/state", () => Locked(State));
        web.MapGet("/api/images", (string? tag) => Locked(() => Results.Json(session.Captions()
            .Where(c => string.IsNullOrEmpty(tag) || c.Tags.Contains(tag))
            .Select(c => new ImageView(Path.GetFileName(c.ImagePath), c.Tags)).ToList())));
        web.MapGet("/api/thumb", (string name) =>
        {
            var image = ImageFiles.Enumerate(session.Folder).FirstOrDefault(p => Path.GetFileName(p) == name);
            if (image is null) return Results.NotFound();
            // The shared thumbnailer returns a data URI; the page loads the JPEG bytes behind it.
            var dataUri = Images.ThumbnailGrid.Thumbnail(image, 160);
            return dataUri is null ? Results.NotFound() : Results.File(Convert.FromBase64String(dataUri[(dataUri.IndexOf(',') + 1)..]), "image/jpeg");
        });

        web.MapPost("/api/prune", (TagRequest r) => Edit(() => new RemoveTags([Required(r.Tag, "tag")])));
        web.MapPost("/api/replace", (ReplaceRequest r) => Edit(() => new SearchReplace([Required(r.Tag, "tag")], [Required(r.With, "with")])));
        web.MapPost("/api/merge", (MergeRequest r) => Edit(() => new MergeTags(Required(r.Tags, "tags").Select(t => Required(t, "tags[]")).ToList(), Required(r.Into, "into"))));
        web.MapPost("/api/image", (ImageEditRequest r) => Edit(() => new EditImageTags(Required(r.Name, "name"), (r.Add ?? []).Select(t => Required(t, "add[]")).ToList(), (r.Remove ?? []).Select(t => Required(t, "remove[]")).ToList())));
        web.MapPost("/api/undo", () => Locked(() => { var e = session.Undo(); return Results.Json(new EditResult($"undid {e.Description}", e.Changes.Count, Snapshot())); }));
        web.MapPost("/api/redo", () => Locked(() => { var e = session.Redo(); return Results.Json(new EditResult($"redid {e.Description}", e.Changes.Count, Snapshot())); }));
    }

    IResult Edit(Func<TagOperation> operation) => Locked(() =>
    {
        var plan = session.Apply(operation());
        return Results.Json(new EditResult(plan.Description, plan.Changes.Count, Snapshot()));
    });

    IResult State() => Results.Json(Snapshot());

    /// <summary>JSON does not enforce the records' non-null fields: a null one is the client's mistake, answered with 400.</summary>
    static T Required<T>(T? value, string field) where T : class => value ?? throw new ArgumentException($"the request has no '{field}'; send it as a JSON string.");

    StateView Snapshot()
    {
        var table = session.Frequencies();
        return new StateView(Path.GetFileName(session.Folder), table.ImageCount,
            table.Rows.Select(r => new TagView(r.Tag, r.Images, r.Category?.ToString().ToLowerInvariant())).ToList(),
            session.Journal.NextUndo?.Description, session.Journal.NextRedo?.Description);
    }

    IResult Locked(Func<IResult> action)
    {
        lock (gate)
        {
            try { return action(); }
            catch (CurationConflictException e) { return Results.Json(new ErrorView(e.Message), statusCode: StatusCodes.Status409Conflict); }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException) { return Results.Json(new ErrorView(e.Message), statusCode: StatusCodes.Status400BadRequest); }
        }
    }

    static string Resource(string name)
    {
        using var stream = typeof(PruningServer).Assembly.GetManifestResourceStream($"NotebookTrainer.PruningPage.{name}")
            ?? throw new InvalidOperationException($"embedded resource PruningPage/{name} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public string ToHtml() =>
        $"<p>Tag pruning page for <code>{Html.Escape(Folder)}</code>: <a href=\"{Html.Escape(Url.ToString())}\" target=\"_blank\">{Html.Escape(Url.ToString())}</a></p>";

    public override string ToString() => $"tag pruning page for {Folder}: {Url}";

    public async ValueTask DisposeAsync()
    {
        try { await app.DisposeAsync().ConfigureAwait(false); }
        finally { session.Dispose(); }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal sealed record TagRequest(string? Tag);
    internal sealed record ReplaceRequest(string? Tag, string? With);
    internal sealed record MergeRequest(IReadOnlyList<string?>? Tags, string? Into);
    internal sealed record ImageEditRequest(string? Name, IReadOnlyList<string?>? Add, IReadOnlyList<string?>? Remove);
    internal sealed record ImageView(string Name, IReadOnlyList<string> Tags);
    internal sealed record TagView(string Tag, int Count, string? Category);
    internal sealed record StateView(string Folder, int Images, IReadOnlyList<TagView> Tags, string? Undo, string? Redo);
    internal sealed record EditResult(string Description, int Changed, StateView State);
    internal sealed record ErrorView(string Error);
}

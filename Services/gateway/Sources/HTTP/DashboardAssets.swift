/// The web dashboard's files, served by the gateway's HTTP server (no build step, no external requests).
///
/// They are real files in `Services/gateway/Resources/dashboard/` (`index.html`, `app.js`, `style.css`), so they can
/// be read, linted and formatted as HTML, JavaScript and CSS rather than as Swift string literals. The EmbedResources
/// build plugin compiles them into the executable byte for byte: the deployments ship the gateway as one file, with
/// no resource bundle beside it.
///
/// `indexHTML` is served at `/` and loads `/app.js` (`appJS`) and `/style.css` (`styleCSS`). The page talks to the
/// JSON API under `/api/v1/` with `Authorization: Bearer <key>`. Its URL fragment contract:
/// `#key=<secret>` (stored in sessionStorage, then removed from the address bar), `customer=<email | +phone | id>`,
/// `view=kpis`, `view=search&q=<query>`. When a view has finished rendering, `body[data-state]` is "ready" (or
/// "error", with the API error in `#error`). A customer's page then stays live: it follows `WatchCustomer360` (NDJSON)
/// and merges each update's sections into the page; `#live-indicator[data-live]` is "connecting", "live" (the watch
/// delivered its first update, so every later change will show), "reconnecting" or "off".
enum DashboardAssets {
    static let indexHTML = EmbeddedResources.dashboardIndexHtml
    static let appJS = EmbeddedResources.dashboardAppJs
    static let styleCSS = EmbeddedResources.dashboardStyleCss
}

import Testing

@testable import C360Gateway

/// The dashboard's files, compiled in from Services/gateway/Resources/dashboard/ by the EmbedResources plugin, are
/// what `GET /`, `/app.js` and `/style.css` answer: each arrives whole and carries the markers the page, its script
/// and the browser test rely on.
@Suite("the embedded dashboard files")
struct DashboardAssetsTests {
    @Test(
        "the page is the whole document: it loads /app.js and /style.css under a strict CSP, with the nodes the script fills"
    )
    func page() {
        let page = DashboardAssets.indexHTML
        #expect(page.hasPrefix("<!doctype html>"))
        #expect(page.hasSuffix("</html>"))
        for marker in [
            #"<script src="/app.js" defer></script>"#, #"<link rel="stylesheet" href="/style.css">"#,
            #"content="default-src 'none'; script-src 'self'"#, "<title>Customer 360</title>",
            #"<body data-state="loading" data-view="">"#, #"id="view""#, #"id="error""#, #"id="sign-out""#,
            #"id="nav-search""#, #"id="nav-kpis""#, #"id="nav-segments""#,
        ] {
            #expect(page.contains(marker), "index.html lacks \(marker)")
        }
    }

    @Test("the script is whole: it keeps its key, calls the JSON API, follows WatchCustomer360 and reports its state")
    func script() {
        let script = DashboardAssets.appJS
        #expect(script.hasPrefix("// Customer 360 dashboard: vanilla JS"))
        #expect(script.hasSuffix("})();"))
        for marker in [
            #"var KEY_STORAGE = "c360.apiKey";"#, #"var API_BASE = "/api/v1/";"#, #"API_BASE + "WatchCustomer360""#,
            "document.body.dataset.state = state", #"id: "live-indicator""#, #"document.getElementById("error")"#,
        ] {
            #expect(script.contains(marker), "app.js lacks \(marker)")
        }
    }

    @Test("the style sheet is whole, down to its small-screen rules")
    func styleSheet() {
        let style = DashboardAssets.styleCSS
        for marker in [".topbar", ".error-banner", ".live-indicator", "@media (max-width: 600px)"] {
            #expect(style.contains(marker), "style.css lacks \(marker)")
        }
        #expect(style.hasSuffix("}\n}"))
    }
}

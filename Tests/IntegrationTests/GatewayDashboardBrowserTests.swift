import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

/// The web dashboard as a person sees it: real headless Chromium (Debian's `chromium`, installed by
/// scripts/install-system-packages.sh) loads the gateway's page, runs its JavaScript against the HTTP/JSON API, and
/// the rendered DOM is checked.
@Suite("gateway web dashboard in headless Chromium")
struct GatewayDashboardBrowserTests {
    @Test("a Persian customer's 360° page, the KPI overview, and a bad key, as Chromium renders them")
    func dashboard() async throws {
        let chromium = try Chromium.find()
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let agentKey = try await stack.gateway.createApiKey(.with {
                $0.name = "browser test agent"
                $0.role = .agent
            }, metadata: admin).secret
            let agent = bearer(agentKey)
            let email = "sara.browser@example.ir"
            let customer = try await stack.gateway.createCustomer(.with {
                $0.givenName = "سارا"
                $0.familyName = "احمدی"
                $0.identifiers = [.with {
                    $0.kind = .email
                    $0.value = email
                }]
                $0.tags = ["vip"]
            }, metadata: agent)
            _ = try await stack.gateway.recordTouchpoint(.with {
                $0.customerID = customer.customerID
                $0.touchpoint = .with {
                    $0.eventID = "browser-login-1"
                    $0.occurredAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-3_600))
                    $0.channel = .app
                    $0.kind = .login
                    $0.direction = .inbound
                }
            }, metadata: agent)
            let base = "http://127.0.0.1:\(stack.httpPort)/"

            // The 360° page: name rendered right-to-left-capable, sections present, nothing missing.
            let page = try await chromium.renderedDOM(of: base + "#key=\(agentKey)&customer=\(email)")
            #expect(page.contains("data-state=\"ready\""), "\(page.prefix(2_000))")
            let name = try #require(page.element(id: "customer-name"), "\(page.prefix(2_000))")
            #expect(name.text == "سارا احمدی")
            #expect(name.tag.contains("dir=\"auto\""))
            #expect(page.element(id: "missing-sections") == nil)
            #expect(page.element(id: "timeline") != nil)
            #expect(page.contains("vip"))

            // The KPI overview renders its tiles.
            let kpis = try await chromium.renderedDOM(of: base + "#key=\(agentKey)&view=kpis")
            #expect(kpis.contains("data-state=\"ready\""), "\(kpis.prefix(2_000))")
            #expect(kpis.element(id: "kpi-nps") != nil && kpis.element(id: "kpi-at-risk") != nil)

            // A key the gateway does not know: the page says so instead of showing data.
            let refused = try await chromium.renderedDOM(of: base + "#key=c360_not-a-key&customer=\(email)")
            #expect(refused.contains("data-state=\"error\""), "\(refused.prefix(2_000))")
            #expect(refused.contains("UNAUTHENTICATED"))
            #expect(!refused.contains("سارا"))
        }
    }
}

/// Headless Chromium, run once per page.
struct Chromium {
    var executable: URL

    /// `C360_CHROMIUM`, else `chromium` on the PATH.
    static func find() throws -> Chromium {
        let environment = ProcessInfo.processInfo.environment
        var candidates = [environment["C360_CHROMIUM"]].compactMap { $0 }
        candidates += (environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/chromium" }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw GatewayTestFailure(description: """
                the browser test needs Chromium: run scripts/install-system-packages.sh (Debian's chromium) or set \
                C360_CHROMIUM to a Chromium binary
                """)
        }
        return Chromium(executable: URL(fileURLWithPath: path))
    }

    /// The DOM after the page's scripts ran (up to 15 s of page time).
    func renderedDOM(of url: String) async throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-chromium-\(UUID())")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile.path)", "--virtual-time-budget=15000", "--dump-dom", url,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = try await Task.detached { try output.fileHandleForReading.readToEnd() ?? Data() }.value
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GatewayTestFailure(description: "chromium exited with \(process.terminationStatus) for \(url)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// One element of a dumped DOM: its start tag and its text up to the next tag.
struct DOMElement {
    var tag: String
    var text: String
}

extension String {
    /// The element with `id`, found in Chromium's serialisation of the DOM.
    func element(id: String) -> DOMElement? {
        guard let marker = range(of: "id=\"\(id)\"") else { return nil }
        guard let open = self[..<marker.lowerBound].lastIndex(of: "<"),
              let close = self[marker.upperBound...].firstIndex(of: ">") else { return nil }
        let afterTag = index(after: close)
        let textEnd = self[afterTag...].firstIndex(of: "<") ?? endIndex
        return DOMElement(tag: String(self[open...close]), text: String(self[afterTag..<textEnd]))
    }
}

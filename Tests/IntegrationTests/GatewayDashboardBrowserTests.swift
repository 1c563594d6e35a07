import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import SwiftProtobuf
import Synchronization
import Testing

/// The web dashboard as a person sees it: real headless Chromium (Debian's `chromium`, installed by
/// scripts/install-system-packages.sh) loads the gateway's page, runs its JavaScript against the HTTP/JSON API, and
/// the rendered DOM is checked — once the page has settled (`--dump-dom`), or, for the live customer page, while it
/// stays open (`ChromiumSession`).
@Suite("gateway web dashboard in headless Chromium")
struct GatewayDashboardBrowserTests {
    @Test(
        "a Persian customer's 360° page that updates live, the KPI overview, the Segments page, and a bad key, as Chromium renders them"
    )
    func dashboard() async throws {
        let chromium = try Chromium.find()
        try await withGatewayStack { stack in
            let admin = bearer(stack.adminSecret)
            let agentKey = try await stack.gateway.createApiKey(
                .with {
                    $0.name = "browser test agent"
                    $0.role = .agent
                }, metadata: admin
            ).secret
            let agent = bearer(agentKey)
            let email = "sara.browser@example.ir"
            let customer = try await stack.gateway.createCustomer(
                .with {
                    $0.givenName = "سارا"
                    $0.familyName = "احمدی"
                    $0.identifiers = [
                        .with {
                            $0.kind = .email
                            $0.value = email
                        }
                    ]
                    $0.tags = ["vip"]
                }, metadata: agent)
            _ = try await stack.gateway.recordTouchpoint(
                .with {
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
            let session = try await chromium.session(opening: base + "#key=\(agentKey)&customer=\(email)")
            do {
                #expect(try await session.waitUntil(#"document.body.dataset.state === "ready""#))
                let page = try await session.dom()
                #expect(page.contains("data-state=\"ready\""), "\(page.prefix(2_000))")
                let name = try #require(page.element(id: "customer-name"), "\(page.prefix(2_000))")
                #expect(name.text == "سارا احمدی")
                #expect(name.tag.contains("dir=\"auto\""))
                #expect(page.element(id: "missing-sections") == nil)
                #expect(page.element(id: "timeline") != nil)
                #expect(page.contains("vip"))

                // The page follows the customer live: once it says so, a touchpoint recorded through the API shows up
                // on it without a reload (the page's own state survives), and the rest of the page stays as it was.
                let isLive = #"document.getElementById("live-indicator")?.dataset.live === "live""#
                #expect(try await session.waitUntil(isLive))
                try await session.evaluate("window.c360LoadedOnce = true")
                let marker = "live-\(UUID().uuidString.prefix(8))"
                _ = try await stack.gateway.recordTouchpoint(
                    .with {
                        $0.customerID = customer.customerID
                        $0.touchpoint = .with {
                            $0.eventID = "browser-\(marker)"
                            $0.occurredAt = Google_Protobuf_Timestamp(date: Date())
                            $0.channel = .chat
                            $0.kind = .message
                            $0.direction = .inbound
                            $0.body = "سلام \(marker)"
                        }
                    }, metadata: agent)
                let shown = #"(document.getElementById("timeline")?.textContent || "").includes("\#(marker)")"#
                #expect(try await session.waitUntil(shown), "the touchpoint did not appear on the page")
                #expect(
                    try await session.evaluate("window.c360LoadedOnce === true") as? Bool == true,
                    "the page was reloaded")
                let updated = try await session.dom()
                #expect(updated.element(id: "customer-name")?.text == "سارا احمدی")
                #expect(updated.contains("data-last-cause=\"CHANGE_KIND_"), "\(updated.prefix(2_000))")
                #expect(updated.element(id: "live-indicator")?.tag.contains("data-live=\"live\"") == true)
            } catch {
                await session.close()
                throw error
            }
            await session.close()

            // The KPI overview renders its tiles.
            let kpis = try await chromium.renderedDOM(of: base + "#key=\(agentKey)&view=kpis")
            #expect(kpis.contains("data-state=\"ready\""), "\(kpis.prefix(2_000))")
            #expect(kpis.element(id: "kpi-nps") != nil && kpis.element(id: "kpi-at-risk") != nil)

            // The Segments page: a segment saved through the gateway (forwarded to outreach-service), with Sara in it.
            try await withConnectedClient(to: stack.gatewayProcess.address) { client in
                let outreach = Customer360_V1_OutreachService.Client(wrapping: client)
                _ = try await outreach.createSegment(
                    .with {
                        $0.segmentID = "vip"
                        $0.name = "مشتریان ویژه"
                        $0.description_p = "Tagged vip"
                        $0.rule = .with {
                            $0.condition = .with {
                                $0.field = "tag"
                                $0.operator = .in
                                $0.values = ["vip"]
                            }
                        }
                    }, metadata: agent)
                _ = try await ChangeFeedWait.first(
                    ChangeFeedWait.request(.segmentEntered, customer: customer.customerID)
                ) {
                    request, options, body in
                    try await outreach.watchChanges(request, metadata: agent, options: options, onResponse: body)
                }
            }
            let segments = try await chromium.renderedDOM(of: base + "#key=\(agentKey)&view=segments")
            #expect(segments.contains("data-state=\"ready\""), "\(segments.prefix(2_000))")
            let row = try #require(segments.element(id: "segment-row-vip"), "\(segments.prefix(3_000))")
            #expect(row.tag.contains("data-size=\"1\""), "\(row.tag)")
            #expect(segments.contains("مشتریان ویژه"))
            #expect(segments.contains("aria-current=\"page\"") && segments.contains("id=\"nav-segments\""))

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
            throw GatewayTestFailure(
                description: """
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
        let run = try await ChildProcess.run(
            executable,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile.path)", "--virtual-time-budget=15000", "--dump-dom", url,
            ], mergingErrors: false)
        guard run.exit.isSuccess else {
            throw GatewayTestFailure(description: "chromium ended with \(run.exit) for \(url): \(run.errors)")
        }
        return run.output
    }
}

extension Chromium {
    /// Opens `url` in a Chromium that stays running, driven over the DevTools protocol (`ChromiumSession`).
    func session(opening url: String) async throws -> ChromiumSession {
        try await ChromiumSession.open(executable: executable, url: url)
    }
}

/// One page in headless Chromium, driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands on
/// the browser's file descriptor 3, answers on 4, each a JSON message ended by a NUL byte), for a page that stays
/// live: `--dump-dom` waits until the network is idle, which a page following a stream never is.
final class ChromiumSession: Sendable {
    private struct State {
        var nextID = 0
        var waiting: [Int: CheckedContinuation<Data, any Error>] = [:]
        var received = Data()
        var closed = false
    }

    private let process: Process
    private let commands: FileHandle
    private let profile: URL
    private let exited: AsyncStream<Void>
    private let state = Mutex(State())
    /// The DevTools session of the page.
    private let page = Mutex<String?>(nil)

    private init(process: Process, commands: FileHandle, profile: URL, exited: AsyncStream<Void>) {
        self.process = process
        self.commands = commands
        self.profile = profile
        self.exited = exited
    }

    /// Starts Chromium and navigates a new page to `url`.
    static func open(executable: URL, url: String) async throws -> ChromiumSession {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("c360-chromium-\(UUID())")
        let process = Process()
        // The shell hands our stdin and stdout to Chromium as descriptors 3 and 4, then closes them.
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", #"exec 3<&0 4>&1 </dev/null >/dev/null; exec "$0" "$@""#, executable.path,
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile.path)", "--remote-debugging-pipe", "about:blank",
        ]
        let commands = Pipe()
        let answers = Pipe()
        process.standardInput = commands
        process.standardOutput = answers
        process.standardError = FileHandle.nullDevice
        let (exited, exit) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in exit.finish() }
        let session = ChromiumSession(
            process: process, commands: commands.fileHandleForWriting, profile: profile,
            exited: exited)
        try process.run()
        // Read on a thread of its own, which blocking reads may hold, rather than through `readabilityHandler`: its
        // libdispatch read source, torn down while other tests' threads create theirs, can crash libdispatch's event
        // loop on Linux (swift-corelibs-libdispatch#949).
        let reader = answers.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = reader.availableData
                session.receive(data)
                if data.isEmpty { return }
            }
        }
        do {
            let target = try await session.call("Target.createTarget", ["url": "about:blank"])
            let attached = try await session.call(
                "Target.attachToTarget",
                [
                    "targetId": target["targetId"] as? String ?? "", "flatten": true,
                ])
            session.page.withLock { $0 = attached["sessionId"] as? String }
            let navigation = try await session.call("Page.navigate", ["url": url], onPage: true)
            if let failure = navigation["errorText"] as? String, !failure.isEmpty {
                throw GatewayTestFailure(description: "Chromium could not open \(url): \(failure)")
            }
        } catch {
            await session.close()
            throw error
        }
        return session
    }

    /// Whether the JavaScript `condition` holds in the page, waiting (on DOM mutations, in the page) up to `timeout`
    /// for it to.
    func waitUntil(_ condition: String, timeout: Duration = .seconds(10)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            let milliseconds = max(0, Int((remaining / .milliseconds(1)).rounded()))
            let expression = """
                new Promise(function (resolve) {
                  function met() { try { return Boolean(\(condition)); } catch (e) { return false; } }
                  if (met()) { resolve(true); return; }
                  var observer = new MutationObserver(function () { if (met()) finish(true); });
                  var timer = setTimeout(function () { finish(met()); }, \(milliseconds));
                  function finish(value) { observer.disconnect(); clearTimeout(timer); resolve(value); }
                  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
                })
                """
            do {
                if try await evaluate(expression) as? Bool == true { return true }
            } catch  where ContinuousClock.now < deadline && !state.withLock(\.closed) {
                // The page's document changed under the evaluation (it was still loading): ask the new one.
                continue
            }
            if ContinuousClock.now >= deadline { return false }
        }
    }

    /// The value of the JavaScript `expression` in the page (awaited when it is a promise).
    @discardableResult
    func evaluate(_ expression: String) async throws -> Any? {
        let answer = try await call(
            "Runtime.evaluate",
            [
                "expression": expression, "awaitPromise": true, "returnByValue": true,
            ], onPage: true)
        if let exception = answer["exceptionDetails"] as? [String: Any] {
            throw GatewayTestFailure(description: "the page threw: \(exception)")
        }
        return (answer["result"] as? [String: Any])?["value"]
    }

    /// The page's DOM, serialised.
    func dom() async throws -> String {
        try await evaluate("document.documentElement.outerHTML") as? String ?? ""
    }

    /// Closes the browser and removes its profile.
    func close() async {
        _ = try? await call("Browser.close")
        let exit = exited
        let closed = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in exit {}
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        if !closed { process.terminate() }
        try? commands.close()
        try? FileManager.default.removeItem(at: profile)
    }

    /// Sends one DevTools command (to the page's session when `onPage`) and answers its result.
    private func call(_ method: String, _ parameters: [String: Any] = [:], onPage: Bool = false) async throws
        -> [String: Any]
    {
        var message: [String: Any] = ["method": method, "params": parameters]
        if onPage, let page = page.withLock({ $0 }) { message["sessionId"] = page }
        let answer: Data = try await withCheckedThrowingContinuation { continuation in
            let id: Int? = state.withLock { state in
                guard !state.closed else { return nil }
                state.nextID += 1
                state.waiting[state.nextID] = continuation
                return state.nextID
            }
            guard let id else {
                continuation.resume(throwing: GatewayTestFailure(description: "Chromium is gone"))
                return
            }
            message["id"] = id
            do {
                var bytes = try JSONSerialization.data(withJSONObject: message)
                bytes.append(0)
                try commands.write(contentsOf: bytes)
            } catch {
                state.withLock { $0.waiting.removeValue(forKey: id) }?.resume(throwing: error)
            }
        }
        let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any] ?? [:]
        if let error = object["error"] as? [String: Any] {
            throw GatewayTestFailure(description: "\(method): \(error["message"] as? String ?? "\(error)")")
        }
        return object["result"] as? [String: Any] ?? [:]
    }

    /// Takes bytes from Chromium: answers complete messages to their callers; end of file fails every caller.
    private func receive(_ data: Data) {
        var answers: [(CheckedContinuation<Data, any Error>, Data)] = []
        var orphans: [CheckedContinuation<Data, any Error>] = []
        state.withLock { state in
            guard !data.isEmpty else {
                state.closed = true
                orphans = Array(state.waiting.values)
                state.waiting.removeAll()
                return
            }
            state.received.append(data)
            while let end = state.received.firstIndex(of: 0) {
                let message = Data(state.received[state.received.startIndex..<end])
                state.received.removeSubrange(state.received.startIndex...end)
                guard let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any],
                    let id = object["id"] as? Int,
                    let waiter = state.waiting.removeValue(forKey: id)
                else { continue }
                answers.append((waiter, message))
            }
        }
        for (waiter, message) in answers { waiter.resume(returning: message) }
        for orphan in orphans { orphan.resume(throwing: GatewayTestFailure(description: "Chromium closed the pipe")) }
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
            let close = self[marker.upperBound...].firstIndex(of: ">")
        else { return nil }
        let afterTag = index(after: close)
        let textEnd = self[afterTag...].firstIndex(of: "<") ?? endIndex
        return DOMElement(tag: String(self[open...close]), text: String(self[afterTag..<textEnd]))
    }
}

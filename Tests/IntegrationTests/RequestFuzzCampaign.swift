import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// How a fuzz run is bounded and seeded, read from the environment:
///
/// - `C360_FUZZ_SEED`: the seed (decimal or 0x-hex); default a fixed one, so every run sends the same requests.
/// - `C360_FUZZ_SECONDS`: the time budget of all fuzz tests together (default 20), split between targets by share.
///   Restarting the stack after a crash does not count.
/// - `C360_FUZZ_MAX_CASES`: at most this many requests per target (default 5000).
/// - `C360_FUZZ_MAX_RESTARTS`: stop a test after this many crashes (default 8).
/// - `C360_FUZZ_METHODS`: only RPCs whose `service/method` contains one of these comma-separated strings.
/// - `C360_FUZZ_REPORT`: a file to which each test appends its findings.
/// - `C360_FUZZ_CONCURRENCY`: requests in flight at once per target (default 4). After a crash the requests that
///   were in flight are replayed one at a time to find the one that caused it; 1 sends one request at a time.
/// - `C360_FUZZ_VERBOSE=1`: the report also lists, per RPC, its answers and most frequent refusals (to see which
///   RPCs the plausible requests do not get past validation).
struct FuzzSettings: Sendable {
    var seed: UInt64 = 0xC360_F022_0019
    var seconds = 20.0
    var maxCasesPerTarget = 5_000
    var maxRestarts = 8
    var methodFilter: [String] = []
    var reportFile: URL?
    var verbose = false
    var concurrency = 4

    static func fromEnvironment() -> FuzzSettings {
        let environment = ProcessInfo.processInfo.environment
        var settings = FuzzSettings()
        if let text = environment["C360_FUZZ_SEED"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let parsed = text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            if let parsed { settings.seed = parsed }
        }
        if let seconds = environment["C360_FUZZ_SECONDS"].flatMap(Double.init), seconds >= 0 {
            settings.seconds = seconds
        }
        if let cases = environment["C360_FUZZ_MAX_CASES"].flatMap(Int.init), cases > 0 {
            settings.maxCasesPerTarget = cases
        }
        if let restarts = environment["C360_FUZZ_MAX_RESTARTS"].flatMap(Int.init), restarts >= 0 {
            settings.maxRestarts = restarts
        }
        settings.methodFilter = (environment["C360_FUZZ_METHODS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        settings.verbose = environment["C360_FUZZ_VERBOSE"] == "1"
        if let concurrency = environment["C360_FUZZ_CONCURRENCY"].flatMap(Int.init), concurrency > 0 {
            settings.concurrency = concurrency
        }
        if let report = environment["C360_FUZZ_REPORT"], !report.isEmpty {
            settings.reportFile = URL(fileURLWithPath: report)
        }
        return settings
    }

    var seedText: String {
        "0x" + String(seed, radix: 16, uppercase: true)
    }
}

/// A process and the credentials a fuzzer calls it with.
struct FuzzTarget: Sendable {
    enum Credential: Sendable {
        /// Internal services take calls without credentials (no service token is configured in tests).
        case none
        case admin
        case viewer
        /// The authority token, which the gateway's authority port asks for (in `x-c360-service-token`).
        case serviceToken
    }

    /// Which of the member's ports: the one every process has, or the gateway's internal authority port.
    enum Port: Sendable {
        case main
        case authority
    }

    /// How reports name it, e.g. "profile-service" or "gateway as viewer".
    var name: String
    var member: StackMember
    var credential: Credential
    /// The fraction of the time budget it gets.
    var share: Double
    var port = Port.main
}

/// Something a fuzz run found: a process that ended, or a status that must never be answered.
struct FuzzFinding: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        /// A process ended while being fuzzed (`log` holds its fatal-error lines).
        case crash(process: String, outcome: ProcessExit, log: String)
        /// The call answered UNKNOWN or INTERNAL.
        case status(code: String, message: String)
        /// A process did not exit with code 0 on SIGTERM after the run.
        case uncleanShutdown(process: String, outcome: String, log: String)
    }

    var kind: Kind
    var target: String
    var method: String
    /// How the request was made (see `FuzzCase.label`).
    var caseLabel: String
    var caseIndex: Int
    var request: String
    var requestBase64: [String]
    var seed: String
    /// How often the same target, method, leaf and kind came up.
    var occurrences = 1

    /// Findings with the same key are one problem seen several times.
    var key: String {
        let what: String
        switch kind {
        case .crash(let process, _, let log): what = "crash \(process) \(log.split(separator: "\n").first ?? "")"
        case .status(let code, _): what = code
        case .uncleanShutdown(let process, _, _): what = "shutdown \(process)"
        }
        let leaf =
            caseLabel.hasPrefix("random") ? "random" : caseLabel.components(separatedBy: " = ").first ?? caseLabel
        return "\(target)|\(method)|\(leaf)|\(what)"
    }

    var description: String {
        let headline: String
        switch kind {
        case .crash(let process, let outcome, let log):
            headline = "CRASH of \(process) (\(outcome))\n    \(log.replacingOccurrences(of: "\n", with: "\n    "))"
        case .status(let code, let message):
            headline = "\(code): \(message)"
        case .uncleanShutdown(let process, let outcome, let log):
            return "UNCLEAN SHUTDOWN of \(process) after fuzzing: \(outcome)\n    "
                + log.split(separator: "\n").suffix(8).joined(separator: "\n    ")
        }
        return """
            \(headline)
              target:  \(target)
              method:  \(method)
              case:    \(caseLabel)  (#\(caseIndex) of the method's schedule, seed \(seed))
              request: \(request)
              bytes:   \(requestBase64.map { $0.count > 200 ? String($0.prefix(200)) + "…" : $0 }.joined(separator: " | "))
              seen:    \(occurrences)×
            """
    }
}

/// Runs targets one after another against one `FuzzStack`, a few requests at a time (after a crash they are replayed
/// one by one, so it is pinned to the request that caused it), restarting the stack after each crash, within the
/// time budget.
struct FuzzCampaign {
    let catalog: ProtoCatalog
    let settings: FuzzSettings
    private(set) var findings: [FuzzFinding] = []
    private(set) var log: [String] = []

    /// Unary calls: above the gateway's peer deadline, so the gateway answers before the client gives up.
    let unaryTimeout = Duration.milliseconds(peerDeadlineMs + 2_000)
    /// Server-streaming calls (alert feeds never end on their own): read what comes within this time.
    let streamTimeout = Duration.milliseconds(250)

    init(catalog: ProtoCatalog, settings: FuzzSettings) {
        self.catalog = catalog
        self.settings = settings
    }

    /// The services `target` is fuzzed through: an internal service's own and `AdminService`, which every
    /// executable serves (profile-service also its shards' `ProfileShardService`); on the gateway every customer360
    /// service, since it forwards the backends' RPCs that their access policies expose (the others answer
    /// UNIMPLEMENTED).
    func services(of target: FuzzTarget) -> [String] {
        guard target.port == .main else {
            return [Customer360_V1_GatewayAuthorityService.descriptor.fullyQualifiedService]
        }
        if target.member == .profile {
            return [
                target.member.serviceName, Customer360_V1_ProfileShardService.descriptor.fullyQualifiedService,
                "customer360.v1.AdminService",
            ]
        }
        guard target.member == .gateway else { return [target.member.serviceName, "customer360.v1.AdminService"] }
        return catalog.serviceNames.filter { $0.hasPrefix("customer360.") }
    }

    /// The RPCs of `target` that `C360_FUZZ_METHODS` selects.
    func methods(of target: FuzzTarget) -> [RPCMethodShape] {
        services(of: target).flatMap { catalog.methods(of: $0) }.filter { method in
            settings.methodFilter.isEmpty || settings.methodFilter.contains { method.description.contains($0) }
        }
    }

    mutating func run(_ targets: [FuzzTarget]) async throws {
        var stack = try await FuzzStack.start()
        var restarts = 0
        targets: for target in targets {
            let budget = Duration.milliseconds(Int(settings.seconds * target.share * 1_000))
            var deadline = ContinuousClock.now + budget
            let methods = methods(of: target)
            var generator = RequestGenerator(catalog: catalog, known: stack.known)
            var schedules = methods.map { MethodSchedule(method: $0, generator: generator, seed: settings.seed) }
            var tally = Tally()
            var crashesByMethod: [String: Int] = [:]

            /// Throws the stack away and starts a fresh one; false when the restarts are used up.
            func restart() async throws -> Bool {
                restarts += 1
                guard restarts <= settings.maxRestarts else { return false }
                let began = ContinuousClock.now
                await stack.stop()
                stack = try await FuzzStack.start()
                generator.known = stack.known
                deadline += ContinuousClock.now - began
                return true
            }

            while ContinuousClock.now < deadline, tally.cases < settings.maxCasesPerTarget, !schedules.isEmpty {
                guard
                    let crash = try await runUntilCrash(
                        target, stack: stack, schedules: &schedules, generator: &generator, tally: &tally,
                        deadline: deadline)
                else { break }
                var restarted = try await restart()
                // Several requests were in flight: replay them one at a time on the fresh stack, each made again
                // from its schedule's state (so it names ids of the new stack), until one brings a process down.
                var culprit: (fuzzCase: FuzzCase, finding: FuzzFinding)?
                if crash.inFlight.count == 1 {
                    culprit = (
                        crash.inFlight[0].fuzzCase,
                        finding(
                            crash.kind, target: target, fuzzCase: crash.inFlight[0].fuzzCase)
                    )
                } else if restarted {
                    for flight in crash.inFlight {
                        var schedule = flight.schedule
                        let again = schedule.next(using: generator)
                        guard let kind = try await replay(again, target: target, stack: stack) else { continue }
                        var found = finding(kind, target: target, fuzzCase: again)
                        found.caseLabel += "  (replayed alone: \(crash.inFlight.count) requests were in flight)"
                        culprit = (again, found)
                        restarted = try await restart()
                        break
                    }
                }
                guard let culprit else {
                    var found = finding(crash.kind, target: target, fuzzCase: crash.inFlight[0].fuzzCase)
                    found.caseLabel =
                        "one of \(crash.inFlight.count) concurrent requests, none of which crashed "
                        + "alone: "
                        + crash.inFlight.map { "\($0.fuzzCase.method.method) [\($0.fuzzCase.label)]" }
                        .joined(separator: "; ")
                    record(found)
                    if !restarted { break targets }
                    continue
                }
                record(culprit.finding)
                let method = culprit.fuzzCase.method.description
                crashesByMethod[method, default: 0] += 1
                if let index = schedules.firstIndex(where: { $0.method == culprit.fuzzCase.method }) {
                    if let leaf = culprit.fuzzCase.leaf { schedules[index].skippedLeaves.insert(leaf) }
                    // A method that keeps crashing on random requests would spend every restart; three is plenty.
                    if crashesByMethod[method, default: 0] >= 3 {
                        schedules.remove(at: index)
                        log.append("\(target.name): \(method) crashed 3 times; not fuzzed further")
                    }
                }
                guard restarted else {
                    log.append("stopped after \(settings.maxRestarts) restarts (C360_FUZZ_MAX_RESTARTS)")
                    log.append(tally.summary(for: target.name, methods: methods.count))
                    break targets
                }
            }
            log.append(tally.summary(for: target.name, methods: methods.count))
            if settings.verbose { log += tally.perMethod() }
        }
        for ended in stack.ended() {
            record(
                FuzzFinding(
                    kind: .crash(process: ended.member.executable, outcome: ended.outcome, log: ended.log),
                    target: "(after the run)", method: "-", caseLabel: "-", caseIndex: 0, request: "-",
                    requestBase64: [],
                    seed: settings.seedText))
        }
        for unclean in await stack.stop() {
            record(
                FuzzFinding(
                    kind: .uncleanShutdown(
                        process: unclean.member.executable, outcome: unclean.outcome, log: unclean.log),
                    target: "(shutdown)", method: "-", caseLabel: "-", caseIndex: 0, request: "-", requestBase64: [],
                    seed: settings.seedText))
        }
    }

    /// A request in flight, with its schedule as it was just before the request was drawn (to draw it again).
    struct InFlight: Sendable {
        var schedule: MethodSchedule
        var fuzzCase: FuzzCase
    }

    /// A process ended while `inFlight` were being answered.
    struct Crash {
        var inFlight: [InFlight]
        var kind: FuzzFinding.Kind
    }

    private func metadata(for target: FuzzTarget, in stack: FuzzStack) -> Metadata {
        switch target.credential {
        case .none: [:]
        case .admin: stack.adminMetadata
        case .viewer: stack.viewerMetadata
        case .serviceToken: stack.serviceTokenMetadata
        }
    }

    private func timeout(of method: RPCMethodShape) -> Duration {
        method.serverStreaming ? streamTimeout : unaryTimeout
    }

    private func finding(_ kind: FuzzFinding.Kind, target: FuzzTarget, fuzzCase: FuzzCase) -> FuzzFinding {
        FuzzFinding(
            kind: kind, target: target.name, method: fuzzCase.method.description, caseLabel: fuzzCase.label,
            caseIndex: fuzzCase.index, request: fuzzCase.requestText,
            requestBase64: fuzzCase.encodedMessages.map { Data($0).base64EncodedString() }, seed: settings.seedText)
    }

    /// Whether a call's outcome may hide a crash: the connection dropped (UNAVAILABLE), the gateway's backend did
    /// not answer (UNAVAILABLE, DEADLINE_EXCEEDED), or the client gave up.
    private static func isSuspicious(_ result: RawCallResult) -> Bool {
        result.clientError != nil
            || [.unavailable, .deadlineExceeded, .cancelled, .unknown, .internalError].contains(result.code)
    }

    /// The processes of `stack` that ended, looking a moment longer after a suspicious answer (a crash surfaces a
    /// moment after the call that caused it fails).
    private func ended(
        in stack: FuzzStack, after results: [RawCallResult]
    ) async -> [(member: StackMember, outcome: ProcessExit, log: String)] {
        results.contains(where: Self.isSuspicious)
            ? await stack.waitForAnyEnd(timeout: .milliseconds(500)) : stack.ended()
    }

    /// Sends `fuzzCase` alone and reports how a process ended, or `nil` when none did.
    private func replay(_ fuzzCase: FuzzCase, target: FuzzTarget, stack: FuzzStack) async throws -> FuzzFinding.Kind? {
        let result = try await withConnectedClient(to: try stack.address(of: target)) { client in
            await client.callRaw(
                fuzzCase.method, messages: fuzzCase.encodedMessages, metadata: metadata(for: target, in: stack),
                timeout: timeout(of: fuzzCase.method))
        }
        guard let first = await ended(in: stack, after: [result]).first else { return nil }
        return .crash(
            process: first.member.executable, outcome: first.outcome,
            log: first.log + "\n(call answered: \(result.summary))")
    }

    /// Sends the schedules' requests round-robin, `settings.concurrency` at a time, until `deadline`, the case cap,
    /// or a process of the stack ends. Requests are drawn one after another (so the seed fixes them), sent together,
    /// and their answers read in order: ids they hand out feed the next batch, UNKNOWN and INTERNAL are recorded.
    ///
    /// - Returns: The requests in flight when a process ended and how it ended, or `nil` when time or cases ran out.
    private mutating func runUntilCrash(
        _ target: FuzzTarget, stack: FuzzStack, schedules: inout [MethodSchedule], generator: inout RequestGenerator,
        tally: inout Tally, deadline: ContinuousClock.Instant
    ) async throws -> Crash? {
        let metadata = metadata(for: target, in: stack)
        let scanner = WireScanner(catalog: catalog)
        return try await withConnectedClient(to: try stack.address(of: target)) { client in
            var next = 0
            while ContinuousClock.now < deadline, tally.cases < settings.maxCasesPerTarget, !schedules.isEmpty {
                let began = ContinuousClock.now
                var batch: [InFlight] = []
                for _ in 0..<min(settings.concurrency, settings.maxCasesPerTarget - tally.cases) {
                    let index = next % schedules.count
                    next += 1
                    let before = schedules[index]
                    batch.append(InFlight(schedule: before, fuzzCase: schedules[index].next(using: generator)))
                }
                let requests = batch.map { (method: $0.fuzzCase.method, messages: $0.fuzzCase.encodedMessages) }
                tally.generating += ContinuousClock.now - began
                let timeouts = requests.map { timeout(of: $0.method) }
                let results = await withTaskGroup(of: (Int, RawCallResult).self) { group in
                    for (index, request) in requests.enumerated() {
                        group.addTask {
                            let result = await client.callRaw(
                                request.method, messages: request.messages, metadata: metadata,
                                timeout: timeouts[index])
                            return (index, result)
                        }
                    }
                    var results = [RawCallResult?](repeating: nil, count: requests.count)
                    for await (index, result) in group { results[index] = result }
                    return results.compactMap { $0 }
                }
                for (flight, result) in zip(batch, results) {
                    let method = flight.fuzzCase.method
                    tally.count(method.description, result)
                    for response in result.responses {
                        for (name, value) in scanner.identifiers(in: response, of: method.outputType) {
                            generator.known.add(value, for: name)
                        }
                    }
                }
                let ended = await ended(in: stack, after: results)
                if let first = ended.first {
                    let answers = zip(batch, results).map { "\($0.fuzzCase.method.method): \($1.summary)" }
                    return Crash(
                        inFlight: batch,
                        kind: .crash(
                            process: first.member.executable, outcome: first.outcome,
                            log: first.log + "\n(calls answered: \(answers.joined(separator: "; ")))"))
                }
                for (flight, result) in zip(batch, results) {
                    if let code = result.code, code == .unknown || code == .internalError {
                        record(
                            finding(
                                .status(code: "\(code)", message: result.message), target: target,
                                fuzzCase: flight.fuzzCase))
                    }
                    if let clientError = result.clientError {
                        log.append(
                            "\(target.name) \(flight.fuzzCase.method) [\(flight.fuzzCase.label)]: client error "
                                + clientError)
                    }
                }
            }
            return nil
        }
    }

    /// Adds `finding`, or counts it again when the same problem was already found.
    mutating func record(_ finding: FuzzFinding) {
        if let index = findings.firstIndex(where: { $0.key == finding.key }) {
            findings[index].occurrences += 1
        } else {
            findings.append(finding)
        }
    }

    /// Every finding, then the per-target tallies, as one report.
    func report(title: String) -> String {
        var lines = [
            "=== \(title): seed \(settings.seedText), budget \(settings.seconds) s, \(findings.count) finding(s)"
        ]
        lines += findings.enumerated().map { "[\($0.offset + 1)] \($0.element)" }
        lines += log
        return lines.joined(separator: "\n")
    }
}

/// Counts of calls and status codes of one target, for the run's summary.
struct Tally {
    var cases = 0
    /// Time spent building requests, and waiting for answers.
    var generating = Duration.zero
    var calling = Duration.zero
    private var codes: [String: Int] = [:]
    private var methodsPastValidation: Set<String> = []
    private var byMethod: [String: [String: Int]] = [:]

    mutating func count(_ method: String, _ result: RawCallResult) {
        cases += 1
        calling += result.elapsed
        let code = result.clientError != nil ? "client error" : result.code.map { "\($0)" } ?? "ok"
        codes[code, default: 0] += 1
        if result.code != .invalidArgument { methodsPastValidation.insert(method) }
        let answer =
            result.code == nil || result.code == .permissionDenied ? code : "\(code): \(result.message.prefix(90))"
        byMethod[method, default: [:]][answer, default: 0] += 1
    }

    /// One line per RPC: its answers, most frequent first.
    func perMethod() -> [String] {
        byMethod.keys.sorted().map { method in
            let answers = byMethod[method]!.sorted { $0.value > $1.value }.prefix(4)
            return "  \(method): " + answers.map { "\($0.value)× \($0.key)" }.joined(separator: " | ")
        }
    }

    func summary(for target: String, methods: Int) -> String {
        let codes = codes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        func milliseconds(_ duration: Duration) -> String {
            cases == 0
                ? "-"
                : String(
                    format: "%.1f ms",
                    Double(duration.components.seconds * 1_000) / Double(cases)
                        + Double(duration.components.attoseconds) / 1e15 / Double(cases))
        }
        return "\(target): \(cases) requests to \(methods) RPCs (\(methodsPastValidation.count) answered something "
            + "other than INVALID_ARGUMENT at least once; \(milliseconds(generating)) to build and "
            + "\(milliseconds(calling)) to call, per request); \(codes)"
    }
}

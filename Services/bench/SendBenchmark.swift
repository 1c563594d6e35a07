import ArgumentParser
import C360ChangeFeed
import C360Contracts
import C360Outreach
import C360Profile
import C360ServerKit
import C360StoreKit
import C360TestSupport
import Foundation
import GRDB
import GRPCCore
import GRPCNIOTransportHTTP2

/// How fast outreach-service sends a campaign to a large segment, end to end: consent and profile read from
/// profile-service at send time, rendered, delivered over SMTP (email) and a signed webhook (SMS), settled, and
/// recorded as outbound touchpoints in interaction-service.
struct SendBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sends",
        abstract:
            "A campaign to --customers customers through real services to local SMTP and webhook sinks: messages/s and memory.",
        discussion: """
            Prepares profile-service's database with --customers customers (email and phone, marketing consent on \
            email, or on SMS for every other one who prefers it) and outreach-service's read model with the same \
            customers, in-process (progress every 10%). Then starts profile-, interaction- and outreach-service from \
            --bin-dir on free ports, with outreach-service delivering to an SMTP sink and an HTTP sink in this \
            process, creates a segment of all of them and starts one campaign. Progress is printed every second; at \
            the end, messages/s over the whole run, what the sinks received, SMTP connections opened, and \
            outreach-service's peak RSS. Goal: ≥ 2,000 messages/s at 100k customers with bounded memory.
            """
    )

    @Option(help: "Customers in the segment (one message each).")
    var customers = 100_000

    @Option(help: "Give up after this many seconds of sending.")
    var timeout = 900

    @Option(help: "Directory holding the executables. [env: C360_BIN_DIR] (default: beside this executable)")
    var binDir: String?

    func run() async throws {
        guard customers >= 1 else { throw ValidationError("--customers must be at least 1") }
        let bin = IngestBenchmark.binDirectory(option: binDir)
        let scratch = try ScratchDirectory(label: "sends")
        defer { scratch.remove() }
        let profileData = scratch.child("profile")
        let outreachData = scratch.child("outreach")
        try await prepare(profileData: profileData, outreachData: outreachData)

        let sinks = try await DeliverySinks.start()
        try await BenchProcesses.run(bin: bin, environment: ["C360_OUTREACH_WEBHOOK_SECRET": "bench-secret"]) {
            processes in
            let profile = try await processes.start(ServiceIdentity.profile.name, [], dataDirectory: profileData)
            let profilePeer = ["--profile-addr", "127.0.0.1:\(profile.port)"]
            let interaction = try await processes.start(ServiceIdentity.interaction.name, profilePeer)
            // feedback- and success-service are not needed: their feeds are followed from addresses nobody serves.
            let outreach = try await processes.start(
                ServiceIdentity.outreach.name,
                profilePeer + [
                    "--interaction-addr", "127.0.0.1:\(interaction.port)", "--feedback-addr", "127.0.0.1:1",
                    "--success-addr", "127.0.0.1:1", "--smtp-url", "smtp://127.0.0.1:\(sinks.smtpPort)",
                    "--webhook-url", "http://127.0.0.1:\(sinks.httpPort)/sms", "--frequency-cap", "off",
                ], dataDirectory: outreachData)
            try await withClient(port: outreach.port) { client in
                try await withClient(port: interaction.port) { interactionClient in
                    try await measure(
                        .init(wrapping: client), outreach: outreach, sinks: sinks,
                        interactions: .init(wrapping: interactionClient))
                }
            }
        }
    }

    /// Fills both databases directly (the RPC path is not what this measures) and sets outreach-service's position
    /// on profile-service's feed to its head, so the send run is not also a read-model rebuild.
    private func prepare(profileData: URL, outreachData: URL) async throws {
        say("bench sends: preparing \(customers) customers…")
        let profileDatabase = try ServiceDatabase.openPool(
            directory: profileData.path, fileName: ServiceIdentity.profile.databaseFileName,
            logger: .init(label: "bench"))
        // The keyring and development KEK where profile-service, started without --kek-file, looks for them.
        let name = ServiceIdentity.profile.name
        let keyring = try Keyring.open(
            path: profileData.appendingPathComponent("\(name)-keyring.sqlite").path,
            kek: KeyringOptions.developmentKey(at: profileData.appendingPathComponent("\(name).kek").path),
            logger: .init(label: "bench"))
        let profiles = try ProfileStore(writer: profileDatabase, keyring: keyring)
        let outreachDatabase = try ServiceDatabase.openPool(
            directory: outreachData.path, fileName: ServiceIdentity.outreach.databaseFileName,
            logger: .init(label: "bench"))
        // outreach-service's own keyring, likewise where it looks for it (each service keeps its own keys).
        let outreachName = ServiceIdentity.outreach.name
        let outreachKeyring = try Keyring.open(
            path: outreachData.appendingPathComponent("\(outreachName)-keyring.sqlite").path,
            kek: KeyringOptions.developmentKey(at: outreachData.appendingPathComponent("\(outreachName).kek").path),
            logger: .init(label: "bench"))
        let outreach = try OutreachStore(writer: outreachDatabase, keyring: outreachKeyring)
        let now = Date()
        var snapshots: [CustomerSnapshot] = []
        for index in 0..<customers {
            let prefersSMS = index % 2 == 1
            var new = NewCustomer()
            new.givenName = "Customer\(index)"
            new.identifiers = [
                Identifier(.email, "c\(index)@bench.example"),
                Identifier(.phone, "+1202\(String(format: "%07d", index % 10_000_000))"),
            ]
            new.preferredChannel = prefersSMS ? .sms : .email
            new.language = "en"
            new.tags = ["bench"]
            let customer = try await profiles.createCustomer(new)
            let channel: C360ServerKit.Channel = prefersSMS ? .sms : .email
            _ = try await profiles.recordConsent(
                customer: customer.id, purpose: .marketing, channel: channel,
                status: .granted, source: "bench", decidedAt: now)
            var facts = CustomerFacts(customerId: customer.id, refreshedAt: now.unixMillis)
            facts.preferredChannel = channel.rawValue
            facts.language = "en"
            snapshots.append(
                CustomerSnapshot(
                    facts: facts, contact: CustomerContact(givenName: new.givenName, email: "c\(index)@bench.example"),
                    tags: ["bench"],
                    consents: [
                        CustomerConsent(
                            customerId: customer.id, purpose: "marketing", channel: channel.rawValue, granted: true)
                    ],
                    channelCounts: []))
            if snapshots.count == 5_000 || index == customers - 1 {
                try await outreach.storeAll(snapshots, now: now)
                snapshots.removeAll(keepingCapacity: true)
            }
            if (index + 1) % max(1, customers / 10) == 0 { say("  \(index + 1) customers") }
        }
        let head = try await profileDatabase.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM change_event") ?? 0
        }
        try await outreachDatabase.write { db in
            try ChangeLog.setPosition(db, source: ServiceIdentity.profile.name, to: head)
        }
        try profileDatabase.close()
        try outreachDatabase.close()
    }

    private func measure(
        _ outreach: Customer360_V1_OutreachService.Client<HTTP2ClientTransport.Posix>, outreach process: ServiceProcess,
        sinks: DeliverySinks, interactions: Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>
    ) async throws {
        _ = try await outreach.putTemplate(
            .with {
                $0.templateID = "bench-offer"
                $0.name = "Bench offer"
                $0.purpose = .marketing
                $0.defaultLanguage = "en"
                $0.variants = [
                    .with {
                        $0.channel = .email
                        $0.language = "en"
                        $0.subject = "A gift for you, {{given_name}}"
                        $0.body =
                            "Dear {{given_name|friend}}, as a {{loyalty_tier|valued}} customer you get 10% off this week."
                    },
                    .with {
                        $0.channel = .sms
                        $0.language = "en"
                        $0.body = "Hi {{given_name}}, 10% off this week."
                    },
                ]
            })
        let segment = try await outreach.createSegment(
            .with {
                $0.segmentID = "bench"
                $0.name = "Bench"
                $0.rule = .with {
                    $0.condition = .with {
                        $0.field = "tag"
                        $0.operator = .in
                        $0.values = ["bench"]
                    }
                }
            })
        say("segment of \(segment.size) customers; starting the campaign")
        let clock = ContinuousClock()
        let begun = clock.now
        var campaign = try await outreach.startCampaign(
            .with {
                $0.campaignID = "bench-run"
                $0.segmentID = "bench"
                $0.templateID = "bench-offer"
            })
        var peakRSS: Int64 = 0
        while campaign.status != .completed {
            try await Task.sleep(for: .seconds(1))
            campaign = try await outreach.getCampaign(.with { $0.campaignID = "bench-run" })
            peakRSS = max(peakRSS, ProcessStats.residentBytes(of: process.processIdentifier))
            let elapsed = (clock.now - begun).inSeconds
            let done = campaign.sent + campaign.suppressed + campaign.failed
            say(
                "  \(Format.decimal(elapsed, 0)) s: \(done)/\(campaign.total) settled (sent \(campaign.sent), "
                    + "deferred \(campaign.deferred), failed \(campaign.failed)) — \(Format.whole(Double(done) / max(elapsed, 0.001))) msg/s, "
                    + "RSS \(Format.megabytes(peakRSS))")
            guard elapsed < Double(timeout) else {
                throw BenchError("the campaign did not complete within \(timeout) s")
            }
        }
        let elapsed = (clock.now - begun).inSeconds
        let settled = campaign.sent + campaign.suppressed + campaign.failed
        say("")
        say(
            "campaign of \(campaign.total) messages completed in \(Format.decimal(elapsed, 1)) s: "
                + "\(Format.whole(Double(settled) / elapsed)) messages/s (goal ≥ 2,000)")
        say(
            "sent \(campaign.sent), suppressed \(campaign.suppressed), failed \(campaign.failed); the SMTP sink got "
                + "\(sinks.emails) emails over \(sinks.smtpConnections) connections, the webhook sink \(sinks.requests) requests"
        )
        say("outreach-service peak RSS while sending: \(Format.megabytes(peakRSS))")

        // Every sent message is also an outbound touchpoint in interaction-service, recorded beside sending.
        var recorded = 0
        var position: UInt64 = 0
        while recorded < Int(campaign.sent) {
            let start = position
            let (count, through) = try await interactions.watchChanges(
                .with {
                    $0.afterSequence = start
                    $0.kinds = [.touchpointRecorded]
                    $0.untilCaughtUp = true
                }
            ) { response in
                var count = 0
                var through = start
                for try await batch in response.messages {
                    count += batch.events.count
                    through = batch.throughSequence
                }
                return (count, through)
            }
            recorded += count
            position = through
            guard (clock.now - begun).inSeconds < Double(timeout) else {
                throw BenchError(
                    "only \(recorded) of \(campaign.sent) outbound touchpoints were recorded within \(timeout) s")
            }
            if recorded < Int(campaign.sent) { try await Task.sleep(for: .milliseconds(200)) }
        }
        say(
            "all \(recorded) outbound touchpoints stored in interaction-service \(Format.decimal((clock.now - begun).inSeconds - elapsed, 1)) s "
                + "after the last message settled")
    }
}

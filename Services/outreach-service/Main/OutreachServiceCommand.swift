import ArgumentParser
import C360ChangeFeed
import C360Clients
import C360ServerKit
import Foundation
import OutreachService

/// `outreach-service`: acts on customers. Parses its options and runs until SIGTERM/SIGINT.
@main
struct OutreachServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outreach-service",
        abstract: "Customer 360 outreach-service: segments, personalised templates, consent-checked sends and campaigns.",
        discussion: """
            Owns one SQLite database (outreach.sqlite in --data-dir) and serves customer360.v1.OutreachService and \
            grpc.health.v1.Health over gRPC. Keeps a read model of every customer from the change feeds of \
            profile-, interaction-, feedback- and success-service; sends email over SMTP (--smtp-url) and SMS/push \
            through an HMAC-signed webhook (--webhook-url); records each send in interaction-service. Customers' \
            names, addresses and city in the read model, and each sent message's recipient, subject and body, are \
            sealed under a key per customer (AES-GCM) kept in a keyring database wrapped by the key-encryption key \
            (--kek-file, C360_OUTREACH_KEK_FILE; rotation with --retired-kek-file, C360_OUTREACH_RETIRED_KEK_FILES; \
            the keyring's path C360_OUTREACH_KEYRING); erasure destroys the keys. Every option also reads \
            C360_OUTREACH_<OPTION> from the environment (e.g. C360_OUTREACH_WEBHOOK_SECRET).
            """,
        version: C360Version.current,
        subcommands: [
            BackupCommand<OutreachStore>.self, RestoreCommand<OutreachStore>.self, HealthCommand<OutreachStore>.self,
            KeyringBackupCommand<OutreachStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions

    @Option(help: "profile-service address. [env: C360_OUTREACH_PROFILE_ADDR] (default: 127.0.0.1:50051)")
    var profileAddr: String?

    @Option(help: "interaction-service address. [env: C360_OUTREACH_INTERACTION_ADDR] (default: 127.0.0.1:50052)")
    var interactionAddr: String?

    @Option(help: "feedback-service address. [env: C360_OUTREACH_FEEDBACK_ADDR] (default: 127.0.0.1:50053)")
    var feedbackAddr: String?

    @Option(help: "success-service address. [env: C360_OUTREACH_SUCCESS_ADDR] (default: 127.0.0.1:50054)")
    var successAddr: String?

    @Option(help: "Deadline of each call to a peer, in milliseconds. [env: C360_OUTREACH_PEER_DEADLINE_MS] (default: 2000)")
    var peerDeadlineMs: Int?

    @Option(help: "Re-read a customer's facts this long after the first change (a burst is read once), in milliseconds. [env: C360_OUTREACH_REFRESH_DELAY_MS] (default: 500)")
    var refreshDelayMs: Int?

    @Option(help: "SMTP relay for email, smtp://host:port; email is not sent without it. [env: C360_OUTREACH_SMTP_URL]")
    var smtpUrl: String?

    @Option(help: "Sender of email. [env: C360_OUTREACH_SMTP_FROM] (default: Customer 360 <noreply@localhost>)")
    var smtpFrom: String?

    @Option(help: "Webhook SMS and push messages are POSTed to; they are not sent without it. [env: C360_OUTREACH_WEBHOOK_URL]")
    var webhookUrl: String?

    @Option(help: "Shared secret of the webhook's HMAC-SHA256 signature; prefer the environment. [env: C360_OUTREACH_WEBHOOK_SECRET]")
    var webhookSecret: String?

    @Option(help: "Most marketing messages per customer in a window, e.g. 3/7d or 1/24h, or off. [env: C360_OUTREACH_FREQUENCY_CAP] (default: 3/7d)")
    var frequencyCap: String?

    @Option(help: "Messages sent at once. [env: C360_OUTREACH_SEND_CONCURRENCY] (default: 16)")
    var sendConcurrency: Int?

    @Option(help: "Attempts before a message whose adapter keeps failing is marked failed. [env: C360_OUTREACH_RETRY_LIMIT] (default: 5)")
    var retryLimit: Int?

    @Option(help: "Re-evaluate every segment this often (time-window rules), in seconds. [env: C360_OUTREACH_SEGMENT_INTERVAL_S] (default: 600)")
    var segmentIntervalS: Int?

    func run() async throws {
        let identity = ServiceIdentity.outreach
        let environment = EnvironmentReader(service: identity, environment: ProcessInfo.processInfo.environment)
        let profileAddress = try environment.peerAddress(profileAddr, key: "PROFILE_ADDR", default: "127.0.0.1:50051")
        let interactionAddress = try environment.peerAddress(interactionAddr, key: "INTERACTION_ADDR", default: "127.0.0.1:50052")
        let feedbackAddress = try environment.peerAddress(feedbackAddr, key: "FEEDBACK_ADDR", default: "127.0.0.1:50053")
        let successAddress = try environment.peerAddress(successAddr, key: "SUCCESS_ADDR", default: "127.0.0.1:50054")
        let deadlineMs: Int = try peerDeadlineMs ?? environment.value("PEER_DEADLINE_MS") ?? 2000
        guard (10...60_000).contains(deadlineMs) else { throw ValidationError("--peer-deadline-ms must be 10...60000") }
        let refreshMs: Int = try refreshDelayMs ?? environment.value("REFRESH_DELAY_MS") ?? 500
        guard (0...600_000).contains(refreshMs) else { throw ValidationError("--refresh-delay-ms must be 0...600000") }
        let capText: String = try frequencyCap ?? environment.value("FREQUENCY_CAP") ?? "3/7d"
        guard let cap = FrequencyCap(parsing: capText) else {
            throw ValidationError("--frequency-cap must look like 3/7d, 1/24h or off, not '\(capText)'")
        }
        let concurrency: Int = try sendConcurrency ?? environment.value("SEND_CONCURRENCY") ?? 16
        guard (1...256).contains(concurrency) else { throw ValidationError("--send-concurrency must be 1...256") }
        let retries: Int = try retryLimit ?? environment.value("RETRY_LIMIT") ?? 5
        guard (1...50).contains(retries) else { throw ValidationError("--retry-limit must be 1...50") }
        let segmentSeconds: Int = try segmentIntervalS ?? environment.value("SEGMENT_INTERVAL_S") ?? 600
        guard (1...86_400).contains(segmentSeconds) else { throw ValidationError("--segment-interval-s must be 1...86400") }

        var adapters: [any MessageAdapter] = []
        let smtp: String = try smtpUrl ?? environment.value("SMTP_URL") ?? ""
        if !smtp.isEmpty {
            let from: String = try smtpFrom ?? environment.value("SMTP_FROM") ?? "Customer 360 <noreply@localhost>"
            guard let adapter = SMTPAdapter(url: smtp, from: from, maxConnections: concurrency) else {
                throw ValidationError("--smtp-url must look like smtp://host:port, not '\(smtp)'")
            }
            adapters.append(adapter)
        }
        let webhook: String = try webhookUrl ?? environment.value("WEBHOOK_URL") ?? ""
        if !webhook.isEmpty {
            let given: String = try webhookSecret ?? environment.value("WEBHOOK_SECRET") ?? ""
            // A secret read from a file often ends in a newline that is not part of it.
            let secret = given.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let adapter = WebhookAdapter(url: webhook, secret: secret) else {
                throw ValidationError("--webhook-url must be an http(s) URL and --webhook-secret (or C360_OUTREACH_WEBHOOK_SECRET) set")
            }
            adapters.append(adapter)
        }

        let host = ServiceHost(identity: identity, configuration: try server.resolve(for: identity))
        let database = try host.openDatabase()
        let keyring = try keys.open(host: host, environment: environment)
        let store = try OutreachStore(writer: database, keyring: keyring)
        let credentials = host.configuration.peerCredentials
        let profile = try PeerConnection(address: profileAddress, credentials: credentials)
        let interaction = try PeerConnection(address: interactionAddress, credentials: credentials)
        let feedback = try PeerConnection(address: feedbackAddress, credentials: credentials)
        let success = try PeerConnection(address: successAddress, credentials: credentials)
        let deadline = Duration.milliseconds(deadlineMs)
        host.logger.notice("peers", metadata: [
            "profile": "\(profileAddress)", "interaction": "\(interactionAddress)", "feedback": "\(feedbackAddress)",
            "success": "\(successAddress)", "deadline_ms": "\(deadlineMs)",
        ])
        host.logger.notice("delivery", metadata: [
            "smtp": "\(smtp.isEmpty ? "off (email not sent)" : smtp)",
            "webhook": "\(webhook.isEmpty ? "off (sms and push not sent)" : webhook)",
            "frequency_cap": "\(cap)", "send_concurrency": "\(concurrency)", "retry_limit": "\(retries)",
        ])

        let changes = try changeFeed.feed(writer: database, identity: identity, environment: environment, logger: host.logger)
        let planner = SendPlanner(store: store, profile: profile.client, adapters: adapters, cap: cap, deadline: deadline)
        let directory = CachedCustomerDirectory(upstream: ProfileCustomerDirectory(client: profile.client))
        let service = OutreachService(store: store, customers: directory, planner: planner, changes: changes)
        let reader = FactReader(profile: profile.client, interaction: interaction.client, feedback: feedback.client,
                                success: success.client, deadline: deadline)
        let followers = ReadModelUpkeep.followers(
            peers: [(.profile, profile.client, "customer360.v1.ProfileService"),
                    (.interaction, interaction.client, "customer360.v1.InteractionService"),
                    (.feedback, feedback.client, "customer360.v1.FeedbackService"),
                    (.success, success.client, "customer360.v1.SuccessService")],
            store: store, profile: profile.client, delay: .milliseconds(refreshMs), logger: host.logger)
        let refresher = ReadModelUpkeep.refresher(store: store, reader: reader, logger: host.logger)
        let shredder = ReadModelUpkeep.shredder(store: store, logger: host.logger)
        let clock = SegmentClock(store: store, interval: .seconds(segmentSeconds), logger: host.logger)
        let dispatcher = MessageDispatcher(
            store: store, planner: planner, interaction: interaction.client, logger: host.logger,
            concurrency: concurrency, retryLimit: retries, deadline: deadline)
        let journeys = JourneyRunner(store: store, profile: profile.client, success: success.client,
                                     feedback: feedback.client, logger: host.logger, deadline: deadline)
        try await host.serviceGroup(
            serving: [service], database: database,
            background: [profile, interaction, feedback, success, changes, refresher, shredder, clock, dispatcher, journeys,
                         KeyRotation(keyring: keyring, logger: host.logger)] + followers
        ).run()
    }
}

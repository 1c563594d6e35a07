import ArgumentParser
import C360ChangeFeed
import C360Clients
import C360Outreach
import C360ServerKit
import Foundation
import ServiceLifecycle

/// `outreach-service`: acts on customers. Parses its options and runs until SIGTERM/SIGINT.
@main
struct OutreachServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outreach-service",
        abstract:
            "Customer 360 outreach-service: segments, personalised templates, consent-checked sends and campaigns.",
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
            KeyringBackupCommand<OutreachStore>.self, ReshardCommand<OutreachStore>.self,
        ]
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var changeFeed: ChangeFeedOptions
    @OptionGroup var keys: KeyringOptions
    @OptionGroup var profile: PeerAddressOption<ProfilePeer>
    @OptionGroup var interaction: PeerAddressOption<InteractionPeer>
    @OptionGroup var feedback: PeerAddressOption<FeedbackPeer>
    @OptionGroup var success: PeerAddressOption<SuccessPeer>
    @OptionGroup var peerDeadline: PeerDeadlineOption

    @Option(
        help:
            "Re-read a customer's facts this long after the first change (a burst is read once), in milliseconds. [env: C360_OUTREACH_REFRESH_DELAY_MS] (default: 500)"
    )
    var refreshDelayMs: Int?

    @Option(help: "SMTP relay for email, smtp://host:port; email is not sent without it. [env: C360_OUTREACH_SMTP_URL]")
    var smtpUrl: String?

    @Option(help: "Sender of email. [env: C360_OUTREACH_SMTP_FROM] (default: Customer 360 <noreply@localhost>)")
    var smtpFrom: String?

    @Option(
        help:
            "Webhook SMS and push messages are POSTed to; they are not sent without it. [env: C360_OUTREACH_WEBHOOK_URL]"
    )
    var webhookUrl: String?

    @Option(
        help:
            "Shared secret of the webhook's HMAC-SHA256 signature; prefer the environment. [env: C360_OUTREACH_WEBHOOK_SECRET]"
    )
    var webhookSecret: String?

    @Option(
        help:
            "Most marketing messages per customer in a window, e.g. 3/7d or 1/24h, or off. [env: C360_OUTREACH_FREQUENCY_CAP] (default: 3/7d)"
    )
    var frequencyCap: String?

    @Option(help: "Messages sent at once. [env: C360_OUTREACH_SEND_CONCURRENCY] (default: 16)")
    var sendConcurrency: Int?

    @Option(
        help:
            "Attempts before a message whose adapter keeps failing is marked failed. [env: C360_OUTREACH_RETRY_LIMIT] (default: 5)"
    )
    var retryLimit: Int?

    @Option(
        help:
            "Re-evaluate every segment this often (time-window rules), in seconds. [env: C360_OUTREACH_SEGMENT_INTERVAL_S] (default: 600)"
    )
    var segmentIntervalS: Int?

    func run() async throws {
        try await makeOutreachServiceGroup(try resolve()).run()
    }

    /// The flags, else `C360_OUTREACH_*`, else the defaults (`OutreachServiceConfiguration` lists them).
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> OutreachServiceConfiguration
    {
        let identity = ServiceIdentity.outreach
        let env = EnvironmentReader(service: identity, environment: environment)
        let refreshMs: Int = try refreshDelayMs ?? env.value("REFRESH_DELAY_MS") ?? 500
        guard (0...600_000).contains(refreshMs) else { throw ValidationError("--refresh-delay-ms must be 0...600000") }
        let capText: String = try frequencyCap ?? env.value("FREQUENCY_CAP") ?? "3/7d"
        guard let cap = FrequencyCap(parsing: capText) else {
            throw ValidationError("--frequency-cap must look like 3/7d, 1/24h or off, not '\(capText)'")
        }
        let concurrency: Int = try sendConcurrency ?? env.value("SEND_CONCURRENCY") ?? 16
        guard (1...256).contains(concurrency) else { throw ValidationError("--send-concurrency must be 1...256") }
        let retries: Int = try retryLimit ?? env.value("RETRY_LIMIT") ?? 5
        guard (1...50).contains(retries) else { throw ValidationError("--retry-limit must be 1...50") }
        let segmentSeconds: Int = try segmentIntervalS ?? env.value("SEGMENT_INTERVAL_S") ?? 600
        guard (1...86_400).contains(segmentSeconds) else {
            throw ValidationError("--segment-interval-s must be 1...86400")
        }
        let smtp: String = try smtpUrl ?? env.value("SMTP_URL") ?? ""
        let webhook: String = try webhookUrl ?? env.value("WEBHOOK_URL") ?? ""
        // A secret read from a file often ends in a newline that is not part of it.
        let secret = (try webhookSecret ?? env.value("WEBHOOK_SECRET") ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
        return OutreachServiceConfiguration(
            server: try server.resolve(for: identity, environment: environment), keyring: try keys.resolve(env),
            changeFeed: try changeFeed.resolve(env), profileAddress: try profile.resolve(env),
            interactionAddress: try interaction.resolve(env), feedbackAddress: try feedback.resolve(env),
            successAddress: try success.resolve(env), peerDeadline: try peerDeadline.resolve(env),
            refreshDelay: .milliseconds(refreshMs),
            smtp: smtp.isEmpty
                ? nil
                : .init(url: smtp, from: try smtpFrom ?? env.value("SMTP_FROM") ?? "Customer 360 <noreply@localhost>"),
            webhook: webhook.isEmpty ? nil : .init(url: webhook, secret: secret),
            frequencyCap: cap, sendConcurrency: concurrency, retryLimit: retries,
            segmentInterval: .seconds(segmentSeconds))
    }
}

import C360Clients
import C360Contracts
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// The five data services as real processes, outreach-service sending to real SMTP and webhook peers.
private struct OutreachSystem {
    let profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>
    let interactions: Customer360_V1_InteractionService.Client<HTTP2ClientTransport.Posix>
    let feedback: Customer360_V1_FeedbackService.Client<HTTP2ClientTransport.Posix>
    let success: Customer360_V1_SuccessService.Client<HTTP2ClientTransport.Posix>
    let outreach: Customer360_V1_OutreachService.Client<HTTP2ClientTransport.Posix>
    let smtp: PythonPeer
    let webhook: PythonPeer
    /// The running outreach-service and how it was started, for a restart on the same data directory.
    let outreachProcess: ServiceProcess
    let outreachArguments: [String]
    static let secret = "test-webhook-secret"
}

private func withOutreachSystem(
    frequencyCap: String = "off", _ body: (OutreachSystem) async throws -> Void
) async throws {
    try await withPythonPeer("smtp_sink.py") { smtp in
        try await withPythonPeer("webhook_sink.py", arguments: ["--secret", OutreachSystem.secret]) { webhook in
            try await withService("profile-service") { profileProcess, profileClient in
                let profilePeer = ["--profile-addr", "\(profileProcess.address)"]
                try await withService("interaction-service", arguments: profilePeer) {
                    interactionProcess, interactionClient in
                    try await withService("feedback-service", arguments: profilePeer) {
                        feedbackProcess, feedbackClient in
                        let dataPeers =
                            profilePeer + [
                                "--interaction-addr", "\(interactionProcess.address)",
                                "--feedback-addr", "\(feedbackProcess.address)",
                            ]
                        try await withService("success-service", arguments: dataPeers) {
                            successProcess, successClient in
                            let arguments =
                                dataPeers + [
                                    "--success-addr", "\(successProcess.address)", "--refresh-delay-ms", "50",
                                    "--smtp-url", "smtp://\(smtp.address)", "--webhook-url",
                                    "http://\(webhook.address)/sms",
                                    "--frequency-cap", frequencyCap,
                                ]
                            try await withService(
                                "outreach-service", arguments: arguments,
                                environment: ["C360_OUTREACH_WEBHOOK_SECRET": OutreachSystem.secret]
                            ) { outreachProcess, outreachClient in
                                try await body(
                                    OutreachSystem(
                                        profiles: .init(wrapping: profileClient),
                                        interactions: .init(wrapping: interactionClient),
                                        feedback: .init(wrapping: feedbackClient),
                                        success: .init(wrapping: successClient),
                                        outreach: .init(wrapping: outreachClient), smtp: smtp, webhook: webhook,
                                        outreachProcess: outreachProcess, outreachArguments: arguments))
                            }
                        }
                    }
                }
            }
        }
    }
}

extension OutreachSystem {
    /// A customer with an email address and a phone number, in `timeZone` with optional quiet hours.
    func customer(
        _ name: String, tags: [String] = [], language: String = "en", timeZone: String = "UTC",
        quiet: (Int32, Int32)? = nil
    ) async throws -> String {
        try await profiles.createCustomer(
            .with {
                $0.givenName = name
                $0.identifiers = [
                    .with {
                        $0.kind = .email
                        $0.value = "\(name.lowercased())@example.com"
                    },
                    .with {
                        $0.kind = .phone
                        $0.value = "+4915100000\(name.utf8.reduce(0) { $0 + Int($1) } % 1000)"
                    },
                ]
                $0.tags = tags
                $0.preferences = .with {
                    $0.preferredLanguage = language
                    if let quiet {
                        $0.quietHours = .with {
                            $0.startMinute = quiet.0
                            $0.endMinute = quiet.1
                            $0.timeZone = timeZone
                        }
                    }
                }
            }
        ).customerID
    }

    func consent(
        _ customerID: String, _ purpose: Customer360_V1_ConsentPurpose, _ channel: Customer360_V1_Channel,
        _ status: Customer360_V1_ConsentStatus
    ) async throws {
        _ = try await profiles.setConsent(
            .with {
                $0.customerID = customerID
                $0.purpose = purpose
                $0.channel = channel
                $0.status = status
                $0.source = "integration-test"
            })
    }

    func template(_ id: String, purpose: Customer360_V1_MessagePurpose = .marketing) async throws {
        _ = try await outreach.putTemplate(
            .with {
                $0.templateID = id
                $0.name = id
                $0.purpose = purpose
                $0.defaultLanguage = "en"
                $0.variants = [
                    .with {
                        $0.channel = .email
                        $0.language = "en"
                        $0.subject = "Hello {{given_name}}"
                        $0.body = "Dear {{given_name|friend}}, {{loyalty_tier|welcome}}."
                    },
                    .with {
                        $0.channel = .email
                        $0.language = "fa"
                        $0.subject = "سلام {{given_name}}"
                        $0.body = "{{given_name}} عزیز، خوش آمدید."
                    },
                    .with {
                        $0.channel = .sms
                        $0.language = "en"
                        $0.body = "Hi {{given_name}}!"
                    },
                ]
            })
    }

    /// Waits until a message leaves QUEUED (polling: deferrals and suppressions have no feed event).
    func settled(_ messageID: String, timeout: Duration = .seconds(15)) async throws -> Customer360_V1_OutboundMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            let message = try await outreach.getMessage(.with { $0.messageID = messageID })
            if message.status != .queued || ContinuousClock.now >= deadline { return message }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func send(
        _ customerID: String, _ templateID: String, key: String,
        channel: Customer360_V1_Channel = .unspecified
    ) async throws -> Customer360_V1_OutboundMessage {
        let queued = try await outreach.sendMessage(
            .with {
                $0.customerID = customerID
                $0.templateID = templateID
                $0.idempotencyKey = key
                $0.channel = channel
            })
        return try await settled(queued.messageID)
    }
}

@Suite("outreach-service with real SMTP and webhook peers", .serialized)
struct OutreachTests {
    @Test("a consented email goes out over SMTP in the customer's language, once, and is stored as a touchpoint")
    func emailSend() async throws {
        try await withOutreachSystem { system in
            // Given Sara, who reads Persian and granted marketing email, and a template in English and Persian
            let sara = try await system.customer("Sara", language: "fa")
            try await system.consent(sara, .marketing, .email, .granted)
            try await system.template("welcome")

            // When a message is sent to her, twice with the same idempotency key
            let sent = try await system.send(sara, "welcome", key: "welcome:\(sara)")
            let again = try await system.outreach.sendMessage(
                .with {
                    $0.customerID = sara
                    $0.templateID = "welcome"
                    $0.idempotencyKey = "welcome:\(sara)"
                })

            // Then one message went over SMTP to her address, in Persian, right-to-left text intact
            #expect(sent.status == .sent, "\(sent)")
            #expect(sent.channel == .email && sent.language == "fa")
            #expect(again.messageID == sent.messageID)
            let mail = try await system.smtp.waitForMessages(1)
            #expect(mail.count == 1)
            #expect(mail.first?["rcpt_tos"] as? [String] == ["sara@example.com"])
            #expect(mail.first?["subject"] as? String == "سلام Sara")
            #expect((mail.first?["body"] as? String)?.contains("Sara عزیز، خوش آمدید.") == true)
            #expect((mail.first?["message_id"] as? String)?.contains(sent.messageID) == true)

            // And interaction-service holds it as an outbound message touchpoint
            let deadline = ContinuousClock.now + .seconds(10)
            var outbound: [Customer360_V1_Touchpoint] = []
            while outbound.isEmpty, ContinuousClock.now < deadline {
                outbound = try await system.interactions.listTimeline(.with { $0.customerID = sara }).touchpoints
                    .filter { $0.eventID == "outreach:\(sent.messageID)" }
                if outbound.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(outbound.count == 1)
            #expect(outbound.first?.direction == .outbound && outbound.first?.channel == .email)
        }
    }

    @Test("consent is checked at send time: withdrawn or missing consent suppresses, naming why per channel")
    func consentRefusal() async throws {
        try await withOutreachSystem { system in
            let omid = try await system.customer("Omid")
            try await system.consent(omid, .marketing, .email, .withdrawn)
            try await system.template("offer")

            let message = try await system.send(omid, "offer", key: "offer:\(omid)")

            #expect(message.status == .suppressed)
            #expect(message.statusReason.contains("email: no marketing consent"), "\(message.statusReason)")
            #expect(message.statusReason.contains("sms: no marketing consent"), "\(message.statusReason)")
            #expect(try system.smtp.messages().isEmpty)
        }
    }

    @Test("quiet hours in the customer's time zone defer the message to their end instead of dropping it")
    func quietHours() async throws {
        try await withOutreachSystem { system in
            // Given Lena in Tokyo, whose quiet hours cover the whole day except the minute before now there
            var tokyo = Calendar(identifier: .gregorian)
            tokyo.timeZone = TimeZone(identifier: "Asia/Tokyo")!
            let local = tokyo.dateComponents([.hour, .minute], from: Date())
            let minute = Int32((local.hour! * 60 + local.minute!) % 1_440)
            let end = (minute + 120) % 1_440
            let lena = try await system.customer("Lena", timeZone: "Asia/Tokyo", quiet: ((minute + 1_439) % 1_440, end))
            try await system.consent(lena, .serviceMessages, .email, .granted)
            try await system.template("receipt", purpose: .service)

            // When a service message is sent now
            let message = try await system.send(lena, "receipt", key: "receipt:\(lena)")

            // Then it waits, deferred until the quiet hours end in Tokyo (about two hours from now)
            #expect(message.status == .deferred, "\(message)")
            #expect(message.statusReason.contains("Asia/Tokyo"))
            let wait = message.scheduledFor.date.timeIntervalSinceNow
            #expect(wait > 60 * 60 && wait <= 2 * 60 * 60 + 60, "deferred by \(wait) s")
            #expect(try system.smtp.messages().isEmpty)
        }
    }

    @Test("the frequency cap suppresses marketing beyond the limit but not service messages")
    func frequencyCap() async throws {
        try await withOutreachSystem(frequencyCap: "1/7d") { system in
            let kai = try await system.customer("Kai")
            try await system.consent(kai, .marketing, .email, .granted)
            try await system.template("promo")
            try await system.template("notice", purpose: .service)

            let first = try await system.send(kai, "promo", key: "promo-1")
            let second = try await system.send(kai, "promo", key: "promo-2")
            let service = try await system.send(kai, "notice", key: "notice-1")

            #expect(first.status == .sent)
            #expect(second.status == .suppressed && second.statusReason.contains("frequency cap 1/7d"), "\(second)")
            #expect(service.status == .sent)
        }
    }

    @Test("SMS goes through the webhook with a valid HMAC signature and the message id as idempotency key")
    func smsWebhook() async throws {
        try await withOutreachSystem { system in
            let noor = try await system.customer("Noor")
            try await system.consent(noor, .marketing, .sms, .granted)
            try await system.template("flash")

            let message = try await system.send(noor, "flash", key: "flash:\(noor)", channel: .sms)

            #expect(message.status == .sent && message.channel == .sms, "\(message)")
            let posts = try await system.webhook.waitForMessages(1)
            #expect(posts.count == 1)
            #expect(posts.first?["signature_valid"] as? Bool == true)
            let headers = posts.first?["headers"] as? [String: String]
            #expect(headers?["x-c360-idempotency-key"] == message.messageID)
            #expect((posts.first?["body"] as? String)?.contains("Hi Noor!") == true)
        }
    }

    @Test("a segment's members follow the data: a tag added in profile-service enters the customer within seconds")
    func segmentMembership() async throws {
        try await withOutreachSystem { system in
            // Given two customers, one tagged vip, and a segment of vip customers
            let ada = try await system.customer("Ada", tags: ["vip"])
            let bob = try await system.customer("Bob")
            _ = try await system.outreach.createSegment(
                .with {
                    $0.segmentID = "vip"
                    $0.name = "VIP"
                    $0.rule = .with {
                        $0.condition = .with {
                            $0.field = "tag"
                            $0.operator = .in
                            $0.values = ["vip"]
                        }
                    }
                })
            _ = try await ChangeFeedWait.first(ChangeFeedWait.request(.segmentEntered, customer: ada)) {
                try await system.outreach.watchChanges($0, options: $1, onResponse: $2)
            }

            // When Bob is tagged vip too
            _ = try await system.profiles.addTags(
                .with {
                    $0.customerID = bob
                    $0.tags = ["vip"]
                })
            let entered = try await ChangeFeedWait.first(ChangeFeedWait.request(.segmentEntered, customer: bob)) {
                try await system.outreach.watchChanges($0, options: $1, onResponse: $2)
            }

            // Then both are members, and a preview of the same rule counts them
            #expect(entered.subjectID == "vip")
            let members = try await system.outreach.listSegmentMembers(.with { $0.segmentID = "vip" }).members
            #expect(Set(members.map(\.customerID)) == [ada, bob])
            let stats = try await system.outreach.getSegmentStats(.with { $0.segmentID = "vip" })
            #expect(stats.size == 2)
        }
    }

    @Test("bad outreach requests answer precise statuses naming the field, and store nothing")
    func badInput() async throws {
        try await withOutreachSystem { system in
            let outreach = system.outreach
            await expectStatus(.invalidArgument) { _ = try await outreach.createSegment(.with { $0.name = "x" }) }
            await expectStatus(.notFound) { _ = try await outreach.getSegment(.with { $0.segmentID = "nope" }) }
            await expectStatus(.invalidArgument) {
                _ = try await outreach.putTemplate(
                    .with {
                        $0.templateID = "t"
                        $0.name = "t"
                        $0.purpose = .marketing
                        $0.variants = [
                            .with {
                                $0.channel = .email
                                $0.language = "en"
                                $0.body = "{{nickname}}"
                            }
                        ]
                    })
            }
            await expectStatus(.invalidArgument) {
                _ = try await outreach.sendMessage(
                    .with {
                        $0.customerID = "not-an-id"
                        $0.templateID = "t"
                        $0.idempotencyKey = "k"
                    })
            }
            await expectStatus(.notFound) {
                _ = try await outreach.startCampaign(
                    .with {
                        $0.segmentID = "nope"
                        $0.templateID = "nope"
                    })
            }
            await expectStatus(.invalidArgument) { _ = try await outreach.listMessages(.init()) }
            let segments = try await outreach.listSegments(.init()).segments
            let templates = try await outreach.listTemplates(.init()).templates
            #expect(segments.isEmpty && templates.isEmpty)
        }
    }

    @Test(
        "a journey walks each customer who enters its segment — message, wait, tag, points, task — and resumes after kill -9 without repeating a step"
    )
    func journeyResumesAfterKill() async throws {
        try await withOutreachSystem { system in
            // Given a welcome journey on the "new" segment: email, wait 2 s, tag, 50 points
            try await system.template("welcome")
            _ = try await system.outreach.createSegment(
                .with {
                    $0.segmentID = "new"
                    $0.name = "New customers"
                    $0.rule = .with {
                        $0.condition = .with {
                            $0.field = "tag"
                            $0.operator = .in
                            $0.values = ["new"]
                        }
                    }
                })
            _ = try await system.outreach.putJourney(
                .with {
                    $0.journeyID = "welcome-series"
                    $0.name = "Welcome series"
                    $0.active = true
                    $0.trigger = .with { $0.segmentEntered = "new" }
                    $0.steps = [
                        .with { $0.send = .with { $0.templateID = "welcome" } },
                        .with { $0.wait = .init(seconds: 2) },
                        .with { $0.addTag = "welcomed" },
                        .with {
                            $0.earnPoints = .with {
                                $0.points = 50
                                $0.reason = "welcome bonus"
                            }
                        },
                        .with {
                            $0.createTask = .with {
                                $0.title = "Call to welcome"
                                $0.ownerID = "csm-7"
                                $0.dueIn = .init(seconds: 86_400)
                            }
                        },
                    ]
                })
            let mina = try await system.customer("Mina", tags: ["new"])
            try await system.consent(mina, .marketing, .email, .granted)

            // When the welcome email has gone out and outreach-service is killed during the wait, then restarted
            let mail = try await system.smtp.waitForMessages(1)
            #expect(mail.count == 1)
            _ = try await system.outreachProcess.kill()
            let restarted = try await ServiceProcess.start(
                "outreach-service", arguments: system.outreachArguments,
                dataDirectory: system.outreachProcess.dataDirectory,
                environment: ["C360_OUTREACH_WEBHOOK_SECRET": OutreachSystem.secret])
            defer {
                Task {
                    _ = try? await restarted.terminate()
                    await restarted.cleanup()
                }
            }
            try await withConnectedClient(to: restarted.address) { client in
                try await waitUntilServing(client, process: restarted)
                let outreach = Customer360_V1_OutreachService.Client(wrapping: client)
                let deadline = ContinuousClock.now + .seconds(20)
                var run = Customer360_V1_JourneyRun()
                while ContinuousClock.now < deadline {
                    run =
                        try await outreach.listJourneyRuns(.with { $0.journeyID = "welcome-series" }).runs.first ?? run
                    if run.state == .completed { break }
                    try await Task.sleep(for: .milliseconds(100))
                }

                // Then Mina's run completed: tagged, 50 points once, and still only one email
                #expect(run.state == .completed, "\(run)")
                #expect(run.customerID == mina)
                let customer = try await system.profiles.getCustomer(.with { $0.customerID = mina })
                #expect(customer.tags.contains("welcomed"))
                let loyalty = try await system.profiles.getLoyalty(.with { $0.customerID = mina })
                #expect(loyalty.balance == 50)
                #expect(try system.smtp.messages().count == 1)
                let tasks = try await system.success.listTasks(.with { $0.customerID = mina }).tasks
                #expect(tasks.map(\.title) == ["Call to welcome"] && tasks.first?.ownerID == "csm-7")
                #expect(tasks.first?.playbook == "journey/welcome-series")
                let journey = try await outreach.getJourney(.with { $0.journeyID = "welcome-series" })
                #expect(journey.completed == 1 && journey.running == 0)
            }
        }
    }

    @Test("a journey that names a missing template or an out-of-range branch is refused naming the step")
    func badJourneys() async throws {
        try await withOutreachSystem { system in
            func failure(_ steps: [Customer360_V1_JourneyStep]) async -> RPCError? {
                do {
                    _ = try await system.outreach.putJourney(
                        .with {
                            $0.journeyID = "j"
                            $0.name = "j"
                            $0.trigger = .with { $0.event = .purchaseRecorded }
                            $0.steps = steps
                        })
                    return nil
                } catch {
                    return error as? RPCError
                }
            }
            let missing = await failure([.with { $0.send = .with { $0.templateID = "ghost" } }])
            #expect(
                missing?.code == .failedPrecondition && missing?.message.hasPrefix("steps[0].send.template_id") == true,
                "\(String(describing: missing))")
            let branch = await failure([
                .with { $0.wait = .init(seconds: 5) },
                .with {
                    $0.branch = .with {
                        $0.rule = .with {
                            $0.condition = .with {
                                $0.field = "orders"
                                $0.operator = .greaterThan
                                $0.number = 1
                            }
                        }
                        $0.thenStep = 7
                    }
                },
            ])
            #expect(
                branch?.code == .invalidArgument && branch?.message.hasPrefix("steps[1].branch.then_step") == true,
                "\(String(describing: branch))")
            let wait = await failure([.with { $0.wait = .init(seconds: 0) }])
            #expect(wait?.code == .invalidArgument && wait?.message.hasPrefix("steps[0].wait") == true)
            let journeys = try await system.outreach.listJourneys(.init()).journeys
            #expect(journeys.isEmpty)
        }
    }

    @Test("closing the loop: when a feature request ships, every voter — and only the voters — is told once")
    func requestShipped() async throws {
        try await withOutreachSystem { system in
            // Given a journey on FEATURE_REQUEST_SHIPPED, and a request two customers voted for and a third did not
            _ = try await system.outreach.putTemplate(
                .with {
                    $0.templateID = "shipped"
                    $0.name = "Your request shipped"
                    $0.purpose = .service
                    $0.defaultLanguage = "en"
                    $0.variants = [
                        .with {
                            $0.channel = .email
                            $0.language = "en"
                            $0.subject = "{{feature_title|Your request}} has shipped"
                            $0.body = "Hi {{given_name}}, {{feature_title|a feature you voted for}} is live."
                        }
                    ]
                })
            _ = try await system.outreach.putJourney(
                .with {
                    $0.journeyID = "request-shipped"
                    $0.name = "Your request shipped"
                    $0.active = true
                    $0.trigger = .with { $0.event = .featureRequestShipped }
                    $0.steps = [.with { $0.send = .with { $0.templateID = "shipped" } }]
                })
            let voters = [try await system.customer("Ava"), try await system.customer("Ben")]
            let bystander = try await system.customer("Cal")
            for customer in voters + [bystander] {
                try await system.consent(customer, .serviceMessages, .email, .granted)
            }
            _ = try await system.feedback.createFeatureRequest(
                .with {
                    $0.customerID = voters[0]
                    $0.featureRequestID = "dark-mode"
                    $0.title = "Dark mode"
                })
            _ = try await system.feedback.voteFeatureRequest(
                .with {
                    $0.customerID = voters[1]
                    $0.featureRequestID = "dark-mode"
                })

            // When it ships (and is marked shipped a second time)
            for _ in 0..<2 {
                _ = try await system.feedback.updateFeatureRequestStatus(
                    .with {
                        $0.featureRequestID = "dark-mode"
                        $0.status = .shipped
                    })
            }

            // Then both voters got one email each, the bystander none
            let mail = try await system.smtp.waitForMessages(2)
            let recipients = mail.compactMap { ($0["rcpt_tos"] as? [String])?.first }.sorted()
            #expect(recipients == ["ava@example.com", "ben@example.com"])
            // naming the feature that shipped
            #expect(mail.compactMap { $0["subject"] as? String } == ["Dark mode has shipped", "Dark mode has shipped"])
            #expect(mail.allSatisfy { ($0["body"] as? String)?.contains("Dark mode is live.") == true }, "\(mail)")
            let runs = try await system.outreach.listJourneyRuns(.with { $0.journeyID = "request-shipped" }).runs
            #expect(Set(runs.map(\.customerID)) == Set(voters))
        }
    }
}

import C360Clients
import C360Contracts
import C360TestExpectations
import C360TestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Testing

/// Every section of a 360° view (gateway.proto, Customer360View).
private let allSections: Set<String> = [
    "profile", "consents", "timeline", "engagement", "commerce", "support", "feedback", "success_plans", "health",
    "alerts",
]

/// The metadata carrying `secret` as the gateway expects it.
func bearer(_ secret: String) -> Metadata {
    ["authorization": "Bearer \(secret)"]
}

/// Every chunk ExportCustomerData streams for `customerID`.
private func exportChunks(
    _ gateway: GatewayClient, _ customerID: String, metadata: Metadata
) async throws -> [Customer360_V1_PrivacyExportChunk] {
    try await gateway.exportCustomerData(
        .with { $0.customerID = customerID }, metadata: metadata, options: .deadline(.seconds(20))
    ) { response in
        var chunks: [Customer360_V1_PrivacyExportChunk] = []
        for try await chunk in response.messages { chunks.append(chunk) }
        return chunks
    }
}

/// The export document: the chunks' `json` concatenated in order, parsed.
private func exportDocument(_ chunks: [Customer360_V1_PrivacyExportChunk]) throws -> [String: Any] {
    let json = chunks.map(\.json).joined()
    guard let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
        throw GatewayTestFailure(description: "the export is not a JSON object: \(json.prefix(500))")
    }
    return document
}

/// The RPC name at the end of an audit record's method ("…GatewayService/GetCustomer360" → "GetCustomer360").
private func rpcName(_ record: Customer360_V1_AuditRecord) -> String {
    record.method.components(separatedBy: "/").last ?? ""
}

@Suite("gateway with the real profile-, interaction-, feedback- and success-service executables over TCP")
struct GatewayProcessTests {
    @Test("no key, a garbage key or a revoked key is UNAUTHENTICATED; each role reaches exactly what the matrix grants")
    func accessControl() async throws {
        try await withGatewayStack { stack in
            let gateway = stack.gateway
            let admin = bearer(stack.adminSecret)

            // The bootstrap secret is readable by the service user only and never logged.
            let file = bootstrapFile(of: stack.gatewayProcess)
            let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(!stack.gatewayProcess.logText().contains(stack.adminSecret))

            // Without a usable key nothing gets through, whatever the method.
            let nobody = "01900000-0000-7000-8000-0000000000ff"
            let anyView = Customer360_V1_GetCustomer360Request.with { $0.customerID = nobody }
            await expectStatus(.unauthenticated, "no key") {
                _ = try await gateway.getCustomer360(anyView)
            }
            await expectStatus(.unauthenticated, "no key, admin method") {
                _ = try await gateway.listAuditLog(.init())
            }
            await expectStatus(.unauthenticated, "a garbage key") {
                _ = try await gateway.getCustomer360(
                    anyView, metadata: bearer("c360_" + String(repeating: "0", count: 64)))
            }
            await expectStatus(.unauthenticated, "not a bearer token") {
                _ = try await gateway.getCustomer360(anyView, metadata: ["authorization": "Basic \(stack.adminSecret)"])
            }

            // The bootstrap key is the only key so far.
            let initial = try await gateway.listApiKeys(.init(), metadata: admin).apiKeys
            let bootstrap = try #require(initial.first)
            #expect(initial.count == 1, "\(initial)")
            #expect(bootstrap.role == .admin && bootstrap.createdBy.isEmpty)
            #expect(stack.adminSecret.hasPrefix(bootstrap.secretPrefix) && !bootstrap.secretPrefix.isEmpty)

            // Keys for the other roles.
            func create(_ role: Customer360_V1_ApiKeyRole, _ name: String) async throws
                -> Customer360_V1_CreateApiKeyResponse
            {
                try await gateway.createApiKey(
                    .with {
                        $0.name = name
                        $0.role = role
                    }, metadata: admin)
            }
            let viewerKey = try await create(.viewer, "it-viewer")
            let analystKey = try await create(.analyst, "it-analyst")
            let agentKey = try await create(.agent, "it-agent")
            for created in [viewerKey, analystKey, agentKey] {
                #expect(created.secret.hasPrefix("c360_") && created.secret.hasPrefix(created.apiKey.secretPrefix))
                #expect(created.apiKey.createdBy == bootstrap.keyID, "\(created.apiKey)")
                #expect(!created.apiKey.hasRevokedAt && !created.apiKey.hasExpiresAt)
            }
            let listed = try await gateway.listApiKeys(.init(), metadata: admin).apiKeys
            #expect(listed.map(\.name) == ["it-agent", "it-analyst", "it-viewer", "bootstrap admin"])
            await expectStatus(.invalidArgument, "CreateApiKey without a role") {
                _ = try await gateway.createApiKey(.with { $0.name = "it-no-role" }, metadata: admin)
            }
            await expectStatus(.invalidArgument, "CreateApiKey expiring in the past") {
                _ = try await gateway.createApiKey(
                    .with {
                        $0.name = "it-expired"
                        $0.role = .viewer
                        $0.expiresAt = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-60))
                    }, metadata: admin)
            }

            let viewer = bearer(viewerKey.secret)
            let analyst = bearer(analystKey.secret)
            let agent = bearer(agentKey.secret)
            let roles: [(name: String, metadata: Metadata)] = [
                ("viewer", viewer), ("analyst", analyst), ("agent", agent), ("admin", admin),
            ]

            let customer = try await gateway.createCustomer(
                .with {
                    $0.givenName = "Matrix"
                    $0.familyName = "Customer"
                }, metadata: agent)
            let lookup = Customer360_V1_GetCustomer360Request.with { $0.customerID = customer.customerID }

            // view: everyone.
            for role in roles {
                await expectOK("GetCustomer360 as \(role.name)") {
                    _ = try await gateway.getCustomer360(lookup, metadata: role.metadata)
                }
                await expectOK("ListCustomers as \(role.name)") {
                    _ = try await gateway.listCustomers(.init(), metadata: role.metadata)
                }
            }
            // analyze: not viewers.
            await expectStatus(.permissionDenied, "GetKpiDashboard as viewer") {
                _ = try await gateway.getKpiDashboard(.init(), metadata: viewer)
            }
            for role in roles.dropFirst() {
                await expectOK("GetKpiDashboard as \(role.name)") {
                    _ = try await gateway.getKpiDashboard(.init(), metadata: role.metadata)
                }
            }
            // write: agents and admins.
            for role in roles.prefix(2) {
                await expectStatus(.permissionDenied, "CreateCustomer as \(role.name)") {
                    _ = try await gateway.createCustomer(
                        .with { $0.givenName = "Denied \(role.name)" },
                        metadata: role.metadata)
                }
            }
            for role in roles.suffix(2) {
                await expectOK("CreateCustomer as \(role.name)") {
                    _ = try await gateway.createCustomer(
                        .with { $0.givenName = "Allowed \(role.name)" },
                        metadata: role.metadata)
                }
            }
            // administer: admins only.
            for role in roles.prefix(3) {
                await expectStatus(.permissionDenied, "CreateApiKey as \(role.name)") {
                    _ = try await gateway.createApiKey(
                        .with {
                            $0.name = "it-escalation"
                            $0.role = .admin
                        }, metadata: role.metadata)
                }
                await expectStatus(.permissionDenied, "ListAuditLog as \(role.name)") {
                    _ = try await gateway.listAuditLog(.init(), metadata: role.metadata)
                }
                await expectStatus(.permissionDenied, "EraseCustomer as \(role.name)") {
                    _ = try await gateway.eraseCustomer(
                        .with {
                            $0.customerID = customer.customerID
                            $0.reason = "test"
                        }, metadata: role.metadata)
                }
                await expectStatus(.permissionDenied, "ExportCustomerData as \(role.name)") {
                    _ = try await exportChunks(gateway, customer.customerID, metadata: role.metadata)
                }
            }
            await expectOK("ListAuditLog as admin") {
                _ = try await gateway.listAuditLog(.init(), metadata: admin)
            }
            // Nothing denied was done: the customers the viewer and analyst tried to create do not exist.
            let everyone = try await gateway.listCustomers(.init(), metadata: agent).customers
            #expect(Set(everyone.map(\.givenName)) == ["Matrix", "Allowed agent", "Allowed admin"], "\(everyone)")
            // A viewer's list is redacted.
            let seenByViewer = try await gateway.listCustomers(.init(), metadata: viewer).customers
            #expect(seenByViewer.count == 3 && seenByViewer.allSatisfy { $0.givenName.isEmpty }, "\(seenByViewer)")

            // A revoked key stops working: at once, as the gateway forgets it (the cache would allow up to 5 s).
            let revoked = try await gateway.revokeApiKey(.with { $0.keyID = viewerKey.apiKey.keyID }, metadata: admin)
            #expect(revoked.keyID == viewerKey.apiKey.keyID && revoked.hasRevokedAt)
            let started = ContinuousClock.now
            var attempts = 0
            var rejection: RPCError?
            while rejection == nil, ContinuousClock.now - started < .seconds(6) {
                attempts += 1
                do {
                    _ = try await gateway.getCustomer360(lookup, metadata: viewer)
                    try await Task.sleep(for: .milliseconds(100))
                } catch let error as RPCError {
                    rejection = error
                }
            }
            #expect(rejection?.code == .unauthenticated, "\(String(describing: rejection))")
            #expect(attempts == 1, "the revoked key still worked for \(ContinuousClock.now - started)")
            // The other keys are unaffected.
            await expectOK("GetCustomer360 as analyst after the viewer's revocation") {
                _ = try await gateway.getCustomer360(lookup, metadata: analyst)
            }

            // Revoking again changes nothing; the last admin key and unknown keys cannot be revoked.
            let again = try await gateway.revokeApiKey(.with { $0.keyID = viewerKey.apiKey.keyID }, metadata: admin)
            #expect(again.revokedAt == revoked.revokedAt)
            await expectStatus(.failedPrecondition, "revoking the last admin key") {
                _ = try await gateway.revokeApiKey(.with { $0.keyID = bootstrap.keyID }, metadata: admin)
            }
            await expectStatus(.notFound, "revoking an unknown key") {
                _ = try await gateway.revokeApiKey(.with { $0.keyID = nobody }, metadata: admin)
            }
            let active = try await gateway.listApiKeys(.init(), metadata: admin).apiKeys
            #expect(active.map(\.name) == ["it-agent", "it-analyst", "bootstrap admin"])
            let all = try await gateway.listApiKeys(.with { $0.includeInactive = true }, metadata: admin).apiKeys
            #expect(all.map(\.name) == ["it-agent", "it-analyst", "it-viewer", "bootstrap admin"])

            // Key management is audited, failures included.
            let adminLog = try await gateway.listAuditLog(
                .with {
                    $0.actions = [.admin]
                    $0.page.pageSize = 100
                }, metadata: admin
            ).records
            #expect(adminLog.allSatisfy { $0.actorKeyID == bootstrap.keyID && $0.actorRole == .admin }, "\(adminLog)")
            #expect(adminLog.filter { rpcName($0) == "CreateApiKey" }.map(\.statusCode) == ["OK", "OK", "OK"])
            #expect(
                adminLog.filter { rpcName($0) == "RevokeApiKey" }.map(\.statusCode)
                    == ["NOT_FOUND", "FAILED_PRECONDITION", "OK", "OK"], "\(adminLog)")
        }
    }

    @Test(
        "an agent's writes show in the 360° view, by id and by email, with personal data; a viewer sees it redacted; the audit log has each read and write with its actor, newest first"
    )
    func writesShowInTheViewAndTheAuditLog() async throws {
        try await withGatewayStack { stack in
            let ada = try await SeededCustomer(stack)
            let (gateway, admin, agent, viewer) = (stack.gateway, ada.admin, ada.agent, ada.viewer)
            let (email, messageBody, comment, plan, viewerKey, agentKey) =
                (ada.email, ada.messageBody, ada.comment, ada.plan, ada.viewerKey, ada.agentKey)
            let id = ada.customerID

            let byID = try await gateway.getCustomer360(.with { $0.customerID = id }, metadata: agent)
            let byEmail = try await gateway.getCustomer360(
                .with {
                    $0.identifier = .with {
                        $0.kind = .email
                        $0.value = email
                    }
                }, metadata: agent)
            for view in [byID, byEmail] {
                #expect(view.customerID == id)
                #expect(view.missingSections.isEmpty, "\(view.sectionStatuses)")
                #expect(Set(view.sectionStatuses.map(\.section)) == allSections)
                #expect(view.sectionStatuses.allSatisfy { $0.ok }, "\(view.sectionStatuses)")
                #expect(!view.personalDataRedacted)
                #expect(view.hasProfile && view.profile.givenName == "Ada" && view.profile.familyName == "Lovelace")
                #expect(view.profile.identifiers.map(\.value) == [email])
                let message = view.recentTimeline.first(where: { $0.eventID == "it-gw-ada-message" })
                #expect(message?.body == messageBody, "\(view.recentTimeline)")
                #expect(view.hasFeedback && view.feedback.responses == 1, "\(view.feedback)")
                #expect(view.recentFeedback.map(\.responseID) == ["it-gw-ada-nps"])
                #expect(view.recentFeedback.first?.comment == comment)
                #expect(view.successPlans.map(\.planID) == [plan.planID])
            }

            // A viewer sees the same customer without personal data.
            let redacted = try await gateway.getCustomer360(.with { $0.customerID = id }, metadata: viewer)
            #expect(redacted.personalDataRedacted)
            #expect(redacted.customerID == id && redacted.missingSections.isEmpty, "\(redacted.sectionStatuses)")
            #expect(redacted.profile.customerID == id)
            #expect(redacted.profile.givenName.isEmpty && redacted.profile.familyName.isEmpty)
            #expect(redacted.profile.identifiers.isEmpty)
            #expect(redacted.profile.demographics.city.isEmpty && redacted.profile.demographics.countryCode == "IR")
            let redactedMessage = redacted.recentTimeline.first(where: { $0.eventID == "it-gw-ada-message" })
            #expect(redactedMessage?.body.isEmpty == true, "\(redacted.recentTimeline)")
            #expect(redacted.recentFeedback.map(\.responseID) == ["it-gw-ada-nps"])
            #expect(redacted.recentFeedback.allSatisfy { $0.comment.isEmpty })
            #expect(redacted.feedback.responses == 1)
            #expect(redacted.successPlans.map(\.planID) == [plan.planID])

            // The audit log: three reads and four writes about Ada, newest first.
            let adaLog = try await gateway.listAuditLog(
                .with {
                    $0.customerID = id
                    $0.page.pageSize = 100
                }, metadata: admin
            ).records
            #expect(adaLog.allSatisfy { $0.customerID == id && $0.statusCode == "OK" }, "\(adaLog)")
            #expect(adaLog.allSatisfy { !$0.requestID.isEmpty && !$0.clientAddress.isEmpty }, "\(adaLog)")
            let instants = adaLog.map(\.occurredAt.date)
            #expect(instants == instants.sorted(by: >), "newest first")
            let reads = adaLog.filter { $0.action == .read }
            #expect(reads.map(rpcName) == ["GetCustomer360", "GetCustomer360", "GetCustomer360"], "\(reads)")
            #expect(reads.map(\.actorKeyID) == [viewerKey.apiKey.keyID, agentKey.apiKey.keyID, agentKey.apiKey.keyID])
            #expect(reads.map(\.actorRole) == [.viewer, .agent, .agent])
            let writes = adaLog.filter { $0.action == .write }
            #expect(
                writes.map(rpcName) == ["CreateSuccessPlan", "RecordResponse", "RecordTouchpoint", "CreateCustomer"],
                "\(writes)")
            #expect(writes.allSatisfy { $0.actorKeyID == agentKey.apiKey.keyID && $0.actorRole == .agent })
            #expect(adaLog.count == reads.count + writes.count, "\(adaLog)")
            let onlyWrites = try await gateway.listAuditLog(
                .with {
                    $0.customerID = id
                    $0.actions = [.write]
                }, metadata: admin
            ).records
            #expect(onlyWrites.map(\.auditID) == writes.map(\.auditID))
            let byViewer = try await gateway.listAuditLog(
                .with { $0.actorKeyID = viewerKey.apiKey.keyID },
                metadata: admin
            ).records
            #expect(byViewer.map(\.customerID) == [id] && byViewer.map(rpcName) == ["GetCustomer360"])
        }
    }

    @Test(
        "ExportCustomerData streams one numbered JSON document with every service's part; EraseCustomer empties every service, a second one finds nothing, and both are audited"
    )
    func exportThenErase() async throws {
        try await withGatewayStack { stack in
            let ada = try await SeededCustomer(stack)
            let (gateway, admin, agent, email, plan) = (stack.gateway, ada.admin, ada.agent, ada.email, ada.plan)
            let id = ada.customerID

            let chunks = try await exportChunks(gateway, id, metadata: admin)
            #expect(chunks.count >= 3)
            #expect(chunks.map(\.sequence) == Array(0..<Int64(chunks.count)))
            #expect(chunks.first?.service == "gateway")
            #expect(chunks.last?.service == "gateway" && chunks.last?.last == true)
            #expect(chunks.dropLast().allSatisfy { !$0.last })
            #expect(chunks.last?.missingServices.isEmpty == true)
            let document = try exportDocument(chunks)
            let expectedKeys: Set<String> = [
                "customer_id", "profile", "interaction", "feedback", "success", "outreach", "missing",
            ]
            #expect(Set(document.keys).isSuperset(of: expectedKeys), "\(document.keys.sorted())")
            #expect((document["customer_id"] as? String) == id)
            #expect((document["missing"] as? [Any])?.isEmpty == true)
            let exportedProfile = document["profile"] as? [String: Any]
            #expect(exportedProfile?.keys.contains("customer") == true)
            for service in ["interaction", "feedback", "success", "outreach"] {
                #expect(((document[service] as? [Any])?.count ?? 0) >= 1, "\(service)")
            }
            let json = chunks.map(\.json).joined()
            #expect(json.contains("it-gw-ada-message") && json.contains("it-gw-ada-nps") && json.contains(plan.planID))

            // Erasure everywhere, then again.
            let erasure = Customer360_V1_PrivacyEraseRequest.with {
                $0.customerID = id
                $0.reason = "test"
            }
            let erased = try await gateway.eraseCustomer(erasure, metadata: admin)
            #expect(erased.customerID == id && erased.complete, "\(erased)")
            #expect(erased.results.map(\.service) == ["profile", "interaction", "feedback", "success"])
            for result in erased.results {
                #expect(result.outcome == .erased && result.recordsErased >= 1, "\(result)")
            }
            let erasedAgain = try await gateway.eraseCustomer(erasure, metadata: admin)
            #expect(erasedAgain.complete, "\(erasedAgain)")
            let outcomes = Dictionary(
                erasedAgain.results.map { ($0.service, $0.outcome) }, uniquingKeysWith: { first, _ in first })
            for service in ["interaction", "feedback", "success"] {
                #expect(outcomes[service] == .nothingToErase, "\(service): \(erasedAgain.results)")
            }
            #expect(outcomes["profile"] == .nothingToErase, "\(erasedAgain.results)")
            #expect(erasedAgain.results.allSatisfy { $0.recordsErased == 0 })
            await expectStatus(.notFound, "the 360° view of an erased customer") {
                _ = try await gateway.getCustomer360(.with { $0.customerID = id }, metadata: agent)
            }
            await expectStatus(.notFound, "the 360° view of an erased customer by email") {
                _ = try await gateway.getCustomer360(
                    .with {
                        $0.identifier = .with {
                            $0.kind = .email
                            $0.value = email
                        }
                    }, metadata: agent)
            }
            let privacyLog = try await gateway.listAuditLog(
                .with {
                    $0.customerID = id
                    $0.actions = [.export, .erase]
                }, metadata: admin
            ).records
            #expect(privacyLog.map(\.action) == [.erase, .erase, .export], "\(privacyLog)")
            #expect(privacyLog.allSatisfy { $0.actorRole == .admin && $0.statusCode == "OK" })
        }
    }

    @Test(
        "with feedback- and success-service stopped, the 360° view, the KPI dashboard and an export are partial and name what is missing, never failed"
    )
    func partialWhenServicesAreDown() async throws {
        try await withGatewayStack { stack in
            let gateway = stack.gateway
            let admin = bearer(stack.adminSecret)
            let agent = bearer(
                try await gateway.createApiKey(
                    .with {
                        $0.name = "it-agent"
                        $0.role = .agent
                    }, metadata: admin
                ).secret)
            let now = Date()
            let babak = try await gateway.createCustomer(
                .with {
                    $0.givenName = "Babak"
                    $0.familyName = "Partial"
                }, metadata: agent
            ).customerID
            _ = try await gateway.recordTouchpoint(
                .with {
                    $0.customerID = babak
                    $0.touchpoint = .with {
                        $0.eventID = "it-gw-babak-login"
                        $0.occurredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-120))
                        $0.channel = .app
                        $0.kind = .login
                        $0.direction = .inbound
                    }
                }, metadata: agent)

            #expect(try await stack.feedbackProcess.terminate() == .exited(0))
            #expect(try await stack.successProcess.terminate() == .exited(0))
            let down: Set<String> = ["feedback", "success_plans", "health", "alerts"]
            let partial = try await gateway.getCustomer360(.with { $0.customerID = babak }, metadata: agent)
            #expect(partial.customerID == babak)
            #expect(Set(partial.missingSections) == down, "\(partial.sectionStatuses)")
            #expect(Set(partial.sectionStatuses.map(\.section)) == allSections)
            for status in partial.sectionStatuses {
                if down.contains(status.section) {
                    #expect(!status.ok && !status.errorCode.isEmpty, "\(status)")
                    let service = status.section == "feedback" ? "feedback-service" : "success-service"
                    #expect(status.service == service, "\(status)")
                } else {
                    #expect(status.ok, "\(status)")
                }
            }
            #expect(partial.profile.givenName == "Babak")
            #expect(partial.recentTimeline.map(\.eventID) == ["it-gw-babak-login"])
            #expect(!partial.hasFeedback && partial.successPlans.isEmpty && !partial.hasHealth)

            // The dashboard is partial the same way.
            let dashboard = try await gateway.getKpiDashboard(.init(), metadata: agent)
            #expect(Set(dashboard.missingSections) == ["feedback", "churn", "health"], "\(dashboard.sectionStatuses)")

            // So is an export: still one valid document, naming what is missing.
            let partialChunks = try await exportChunks(gateway, babak, metadata: admin)
            #expect(partialChunks.last?.last == true)
            #expect(partialChunks.last?.missingServices == ["feedback", "success"])
            let partialDocument = try exportDocument(partialChunks)
            #expect((partialDocument["customer_id"] as? String) == babak)
            #expect((partialDocument["missing"] as? [String]) == ["feedback", "success"])
        }
    }
}

/// Ada, written through the gateway by an agent in every service: a customer with an email, an inbound message, an
/// NPS answer with a comment and a success plan; with the viewer and agent keys that wrote and will read her.
private struct SeededCustomer {
    let customerID: String
    let email = "ada.gateway@example.com"
    let messageBody = "Where is my order? It was due on Monday."
    let comment = "Friendly support and a very fast delivery."
    let plan: Customer360_V1_SuccessPlan
    let viewerKey: Customer360_V1_CreateApiKeyResponse
    let agentKey: Customer360_V1_CreateApiKeyResponse
    let admin: Metadata
    var viewer: Metadata { bearer(viewerKey.secret) }
    var agent: Metadata { bearer(agentKey.secret) }

    init(_ stack: GatewayStack) async throws {
        let gateway = stack.gateway
        let admin = bearer(stack.adminSecret)
        self.admin = admin
        viewerKey = try await gateway.createApiKey(
            .with {
                $0.name = "it-viewer"
                $0.role = .viewer
            }, metadata: admin)
        agentKey = try await gateway.createApiKey(
            .with {
                $0.name = "it-agent"
                $0.role = .agent
            }, metadata: admin)
        let agent = bearer(agentKey.secret)
        let (email, messageBody, comment) = (self.email, self.messageBody, self.comment)
        let now = Date()
        let ada = try await gateway.createCustomer(
            .with {
                $0.identifiers = [
                    .with {
                        $0.kind = .email
                        $0.value = email
                    }
                ]
                $0.givenName = "Ada"
                $0.familyName = "Lovelace"
                $0.demographics = .with {
                    $0.city = "Tehran"
                    $0.countryCode = "IR"
                }
            }, metadata: agent
        ).customerID
        let touchpoint = try await gateway.recordTouchpoint(
            .with {
                $0.customerID = ada
                $0.touchpoint = .with {
                    $0.eventID = "it-gw-ada-message"
                    $0.occurredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-600))
                    $0.channel = .email
                    $0.kind = .message
                    $0.direction = .inbound
                    $0.body = messageBody
                }
            }, metadata: agent)
        #expect(!touchpoint.duplicate && touchpoint.touchpoint.customerID == ada)
        // Surveys are set up on feedback-service itself; the gateway routes only the answers.
        _ = try await stack.feedback.createSurvey(
            .with {
                $0.surveyID = "it-gw-nps"
                $0.surveyType = .nps
                $0.name = "gateway NPS"
                $0.question = "How likely are you to recommend us to a friend or colleague?"
                $0.language = "en"
                $0.channel = .email
            })
        let answer = try await gateway.recordResponse(
            .with {
                $0.customerID = ada
                $0.responseID = "it-gw-ada-nps"
                $0.surveyID = "it-gw-nps"
                $0.score = 9
                $0.comment = comment
                $0.answeredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-300))
            }, metadata: agent)
        #expect(answer.response.customerID == ada && !answer.duplicate)
        let plan = try await gateway.createSuccessPlan(
            .with {
                $0.customerID = ada
                $0.title = "Onboarding plan"
                $0.csmOwnerID = "csm-it"
            }, metadata: agent)
        #expect(plan.customerID == ada && !plan.planID.isEmpty)
        customerID = ada
        self.plan = plan
    }
}

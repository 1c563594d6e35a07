import C360Contracts
import C360TestSupport
import Foundation
import GRPCCore
import SwiftProtobuf
import Testing

/// The personal data of the customer these tests erase: values found nowhere else, so any byte run matching one of
/// them in a service's files is a leftover of that customer.
private enum Erased {
    static let givenName = "Xanthippa"
    static let familyName = "Quillbrook"
    static let email = "xanthippa.quillbrook@example.org"
    static let phone = "+989127364518"
    /// Each value as stored somewhere: names as given and lower-cased (profile-service keeps lower-case search keys;
    /// feedback-service lower-case theme stems).
    static let values = [givenName, familyName, givenName.lowercased(), familyName.lowercased(), email, phone]
}

@Suite("Erasure on disk: no byte of an erased customer survives in any service's files", .timeLimit(.minutes(3)))
struct ErasureOnDiskTests {
    @Test(
        "after EraseCustomer and a clean stop, no database, WAL or WAL-index file of any service holds the customer's name, email or phone"
    )
    func nothingLeftOnDisk() async throws {
        try await withGatewayStack { stack in
            let gateway = stack.gateway
            let admin = bearer(stack.adminSecret)
            let agent = bearer(
                try await gateway.createApiKey(
                    .with {
                        $0.name = "it-erasure-agent"
                        $0.role = .agent
                    }, metadata: admin
                ).secret)
            let now = Date()
            let fullName = "\(Erased.givenName) \(Erased.familyName)"

            // --- Given: the customer's personal data in every service -------------------------------------------
            let customerID = try await gateway.createCustomer(
                .with {
                    $0.identifiers = [
                        .with {
                            $0.kind = .email
                            $0.value = Erased.email
                        },
                        .with {
                            $0.kind = .phone
                            $0.value = Erased.phone
                        },
                    ]
                    $0.givenName = Erased.givenName
                    $0.familyName = Erased.familyName
                }, metadata: agent
            ).customerID
            // Another customer whose data stays, so the erased rows share pages with live ones.
            let otherID = try await gateway.createCustomer(
                .with {
                    $0.givenName = "Sara"
                    $0.familyName = "Stays"
                }, metadata: agent
            ).customerID

            _ = try await gateway.recordTouchpoint(
                .with {
                    $0.customerID = customerID
                    $0.touchpoint = .with {
                        $0.eventID = "it-erase-message"
                        $0.occurredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-600))
                        $0.channel = .email
                        $0.kind = .message
                        $0.direction = .inbound
                        $0.body = "This is \(fullName); write to \(Erased.email) or call \(Erased.phone)."
                    }
                }, metadata: agent)
            _ = try await gateway.openTicket(
                .with {
                    $0.customerID = customerID
                    $0.eventID = "it-erase-ticket"
                    $0.subject = "Refund for \(fullName)"
                    $0.body = "\(Erased.givenName) here, my parcel never arrived."
                    $0.channel = .email
                }, metadata: agent)
            _ = try await gateway.recordTouchpoint(
                .with {
                    $0.customerID = otherID
                    $0.touchpoint = .with {
                        $0.eventID = "it-erase-other"
                        $0.occurredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-500))
                        $0.channel = .email
                        $0.kind = .message
                        $0.direction = .inbound
                        $0.body = "An ordinary question from another customer."
                    }
                }, metadata: agent)

            _ = try await stack.feedback.createSurvey(
                .with {
                    $0.surveyID = "it-erase-nps"
                    $0.surveyType = .nps
                    $0.name = "erasure NPS"
                    $0.question = "How likely are you to recommend us to a friend or colleague?"
                    $0.language = "en"
                    $0.channel = .email
                })
            _ = try await gateway.recordResponse(
                .with {
                    $0.customerID = customerID
                    $0.responseID = "it-erase-nps"
                    $0.surveyID = "it-erase-nps"
                    $0.score = 4
                    $0.comment = "\(fullName) thinks \(Erased.familyName) deserved a faster courier."
                    $0.answeredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-300))
                }, metadata: agent)
            let feature = try await stack.feedback.createFeatureRequest(
                .with {
                    $0.featureRequestID = "it-erase-dark-mode"
                    $0.title = "Dark mode"
                    $0.details = "A darker theme for the app."
                })
            _ = try await stack.feedback.voteFeatureRequest(
                .with {
                    $0.customerID = customerID
                    $0.featureRequestID = feature.featureRequestID
                    $0.comment = "\(Erased.givenName) reads at night."
                    $0.channel = .app
                })
            _ = try await stack.feedback.recordChurnReason(
                .with {
                    $0.customerID = customerID
                    $0.churnReasonID = "it-erase-churn"
                    $0.category = .price
                    $0.text = "\(fullName) found a cheaper offer; call back on \(Erased.phone)."
                    $0.churnedAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-200))
                    $0.channel = .phone
                    $0.recordedBy = "csm-it"
                })

            let plan = try await gateway.createSuccessPlan(
                .with {
                    $0.customerID = customerID
                    $0.title = "Onboarding \(fullName)"
                    $0.summary = "Weekly call with \(Erased.givenName) on \(Erased.phone)."
                    $0.csmOwnerID = "csm-it"
                    $0.goals = [
                        .with {
                            $0.goalID = "it-erase-goal"
                            $0.title = "\(Erased.familyName) team adoption"
                            $0.metric = "weekly active seats"
                            $0.unit = "seats"
                            $0.baselineValue = 10
                            $0.targetValue = 50
                            $0.dueAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(90 * 86_400))
                        }
                    ]
                }, metadata: agent)
            _ = try await gateway.recordGoalProgress(
                .with {
                    $0.customerID = customerID
                    $0.planID = plan.planID
                    $0.goalID = "it-erase-goal"
                    $0.progressID = "it-erase-progress"
                    $0.currentValue = 20
                    $0.note = "\(Erased.givenName) says the rollout is on track."
                    $0.recordedBy = "csm-it"
                }, metadata: agent)

            // Every service seals what names the customer under the customer's key (feedback-service's theme terms
            // too: themes are counted by a blind index of the stem): none of the values is on any service's disk in
            // the clear, even before erasure.
            for process in [
                stack.profileProcess, stack.interactionProcess, stack.feedbackProcess, stack.successProcess,
            ] {
                let clear = try DatabaseFileScan.find(Erased.values, under: process.dataDirectory)
                #expect(clear.isEmpty, "\(process.executable) stores in the clear: \(clear)")
            }
            // What a backup taken now holds: the same ciphertext, which the erasure below makes unreadable.
            let backups = try await backUpEveryService(stack)

            // --- When: the customer is erased everywhere and the stack stops cleanly -----------------------------
            let erased = try await gateway.eraseCustomer(
                .with {
                    $0.customerID = customerID
                    $0.reason = "the customer asked to be forgotten"
                }, metadata: admin)
            #expect(erased.complete, "\(erased)")
            #expect(erased.results.map(\.service) == ["profile", "interaction", "feedback", "success"])
            for result in erased.results {
                #expect(result.outcome == .erased, "\(result)")
            }
            let everyProcess = [
                stack.gatewayProcess, stack.successProcess, stack.feedbackProcess,
                stack.interactionProcess, stack.profileProcess,
            ]
            for process in everyProcess {
                #expect(try await process.terminate() == .exited(0), "\(process.executable) did not stop cleanly")
            }

            // --- Then: no file of any service — backups taken before the erasure and the gateway's audit log
            // included — holds a byte of it --------------------------------------------------------------------------
            for backup in backups {
                #expect(FileManager.default.fileExists(atPath: backup.path), "\(backup.path) is gone")
            }
            for process in everyProcess {
                let files = try DatabaseFileScan.databaseFiles(in: process.dataDirectory)
                #expect(
                    files.contains { $0.pathExtension == "sqlite" },
                    "\(process.executable): no database in \(process.dataDirectory.path)")
                let left = try DatabaseFileScan.find(Erased.values, in: files)
                #expect(left.isEmpty, "\(process.executable) kept the erased customer's data: \(left)")
            }
        }
    }
}

/// Has each data service of the stack back up its database (the `backup` subcommand, as an operator would), and
/// answers the backup files: they land under each data directory, where the final scan reads them.
private func backUpEveryService(_ stack: GatewayStack) async throws -> [URL] {
    var files: [URL] = []
    for process in [stack.profileProcess, stack.interactionProcess, stack.feedbackProcess, stack.successProcess] {
        let run = try await runToCompletion(
            process.executable,
            [
                "backup", "--addr", "\(process.address)",
                "--name", "before-erasure",
            ])
        #expect(run.status == 0, "\(process.executable) backup: \(run.output)")
        files.append(process.dataDirectory.appendingPathComponent("backups/before-erasure.sqlite"))
    }
    return files
}

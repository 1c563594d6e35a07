public import C360Contracts
import C360ServerKit
import Foundation
public import GRPCCore
import SwiftProtobuf
import Synchronization

extension GatewayService {
    /// Streams one JSON document: `{"customer_id": …, "profile": {…}, "interaction": [...], "feedback": [...],
    /// "success": [...], "outreach": [...], "withheld": {…}, "missing": [...]}`, each service's part as soon as it
    /// arrives.
    ///
    /// Consents are honoured: touchpoints of marketing campaigns on a channel where the customer withdrew marketing
    /// consent are left out and only counted under "withheld".
    public func exportCustomerData(
        request: Customer360_V1_PrivacyExportRequest, response: RPCWriter<Customer360_V1_PrivacyExportChunk>,
        context: ServerContext
    ) async throws {
        let customerID = try Validate.id(request.customerID, field: "customer_id")
        try await audited(.export, customer: customerID, context: context) {
            // Like any server stream, cut with UNAVAILABLE when the gateway drains (`ServerDrain`), and audited so.
            try await ServerDrain.serverStream(context: context) {
                let document = ExportDocument(response: response)
                let options = peers.options
                var streaming = peers.options
                streaming.timeout = Self.exportDeadline
                var missing: [String] = []
                // An unknown or erased customer is refused before anything is streamed.
                let profileCustomer: Customer360_V1_Customer?
                do {
                    profileCustomer = try await peers.profile.getCustomer(
                        .with { $0.customerID = customerID }, options: options)
                } catch let error as RPCError where error.code == .notFound || error.code == .invalidArgument {
                    throw RPCError(code: .notFound, message: error.message)
                } catch {
                    profileCustomer = nil
                }
                try await document.send(
                    "gateway",
                    "{\"customer_id\":\(Self.quoted(customerID)),\"exported_at\":\(Self.quoted(now().formatted(.iso8601)))"
                )

                var withdrawn = Set<Customer360_V1_Channel>()
                do {
                    guard let customer = profileCustomer else {
                        throw RPCError(code: .unavailable, message: ServiceIdentity.profile.name)
                    }
                    let consents = try await peers.profile.getConsents(
                        .with { $0.customerID = customerID }, options: options)
                    withdrawn = Set(
                        consents.consents.filter { $0.purpose == .marketing && $0.status == .withdrawn }.map(\.channel))
                    var history: [String] = []
                    var token = ""
                    repeat {
                        let page = try await peers.profile.listConsentHistory(
                            .with {
                                $0.customerID = customerID
                                $0.page.pageToken = token
                                $0.page.pageSize = 500
                            }, options: options)
                        history += try page.decisions.map { try $0.jsonString() }
                        token = page.page.nextPageToken
                    } while !token.isEmpty
                    var loyalty: [String] = []
                    token = ""
                    repeat {
                        let page = try await peers.profile.listLoyaltyHistory(
                            .with {
                                $0.customerID = customerID
                                $0.page.pageToken = token
                                $0.page.pageSize = 500
                            }, options: options)
                        loyalty += try page.transactions.map { try $0.jsonString() }
                        token = page.page.nextPageToken
                    } while !token.isEmpty
                    try await document.send(
                        "profile",
                        ",\"profile\":{\"customer\":\(try customer.jsonString()),\"consents\":\(try consents.jsonString()),\"consent_history\":[\(history.joined(separator: ","))],\"loyalty_history\":[\(loyalty.joined(separator: ","))]}"
                    )
                } catch {
                    missing.append("profile")
                }

                let withdrawnMarketing = withdrawn
                var withheld = 0
                do {
                    try await document.send("interaction", ",\"interaction\":[")
                    withheld = try await peers.interaction.exportCustomerData(
                        .with { $0.customerID = customerID }, options: streaming
                    ) { stream in
                        var withheld = 0
                        var separator = ""
                        for try await var chunk in stream.messages {
                            let before = chunk.touchpoints.count
                            chunk.touchpoints.removeAll {
                                Self.isMarketing($0) && withdrawnMarketing.contains($0.channel)
                            }
                            withheld += before - chunk.touchpoints.count
                            try await document.send("interaction", separator + (try chunk.jsonString()))
                            separator = ","
                        }
                        return withheld
                    }
                } catch {
                    missing.append("interaction")
                }
                try await document.send("interaction", "]")
                if !(try await document.section(
                    "feedback",
                    { body in
                        try await peers.feedback.exportCustomerData(
                            .with { $0.customerID = customerID }, options: streaming
                        ) {
                            try await body($0.messages)
                        }
                    }))
                {
                    missing.append("feedback")
                }
                if !(try await document.section(
                    "success",
                    { body in
                        try await peers.success.exportCustomerData(
                            .with { $0.customerID = customerID }, options: streaming
                        ) {
                            try await body($0.messages)
                        }
                    }))
                {
                    missing.append("success")
                }
                if !(try await document.section(
                    "outreach",
                    { body in
                        guard let connection = peers.outreach else {
                            throw RPCError(code: .unavailable, message: "not configured")
                        }
                        try await Customer360_V1_OutreachService.Client(wrapping: connection).exportCustomerData(
                            .with { $0.customerID = customerID }, options: streaming
                        ) { try await body($0.messages) }
                    }))
                {
                    missing.append("outreach")
                }
                let missingJSON = missing.map(Self.quoted).joined(separator: ",")
                try await document.send(
                    "gateway",
                    ",\"withheld\":{\"marketing_touchpoints_without_consent\":\(withheld)},\"missing\":[\(missingJSON)]}",
                    last: true, missing: missing)
                return ((), customerID)
            }
        }
    }

    /// Erases one customer in interaction, feedback and success first and in profile last, so the id keeps
    /// resolving until the rest is done; reports each service.
    public func eraseCustomer(
        request: Customer360_V1_PrivacyEraseRequest, context: ServerContext
    ) async throws -> Customer360_V1_PrivacyEraseResponse {
        let customerID = try Validate.id(request.customerID, field: "customer_id")
        let reason = try Validate.text(request.reason, field: "reason", maxLength: 500, required: true)
        let options = peers.options
        return try await audited(.erase, customer: customerID, context: context, note: reason) {
            async let interaction = Self.erasure("interaction") {
                let answer = try await peers.interaction.eraseCustomerData(
                    .with { $0.customerID = customerID }, options: options)
                return answer.touchpointsErased + answer.ticketsErased
            }
            async let feedback = Self.erasure("feedback") {
                let answer = try await peers.feedback.eraseCustomerData(
                    .with { $0.customerID = customerID }, options: options)
                return answer.responsesErased + answer.votesErased + answer.churnReasonsErased
            }
            async let success = Self.erasure("success") {
                let answer = try await peers.success.eraseCustomerData(
                    .with { $0.customerID = customerID }, options: options)
                return answer.plansErased + answer.healthScoresErased + answer.alertsErased + answer.tasksErased
            }
            var results = [await interaction, await feedback, await success]
            if results.allSatisfy({ $0.outcome != .failed }) {
                results.insert(
                    await Self.erasure("profile") {
                        let answer = try await peers.profile.eraseCustomer(
                            .with { $0.customerID = customerID }, options: options)
                        return answer.erasedNow ? 1 : 0
                    }, at: 0)
            } else {
                results.insert(
                    .with {
                        $0.service = "profile"
                        $0.outcome = .failed
                        $0.errorCode = "FAILED_PRECONDITION"
                        $0.errorMessage = "not erased yet: the other services must be erased first; retry EraseCustomer"
                    }, at: 0)
            }
            let answer = Customer360_V1_PrivacyEraseResponse.with {
                $0.customerID = customerID
                $0.results = results
                $0.complete = results.allSatisfy { $0.outcome != .failed }
            }
            return (answer, customerID)
        }
    }

    private static func erasure(
        _ service: String, _ call: @Sendable () async throws -> Int64
    ) async -> Customer360_V1_ServiceErasureResult {
        do {
            let erased = try await call()
            return .with {
                $0.service = service
                $0.outcome = erased > 0 ? .erased : .nothingToErase
                $0.recordsErased = erased
            }
        } catch {
            let status = (error as? RPCError) ?? RPCError(code: .unknown, message: "\(error)")
            return .with {
                $0.service = service
                $0.outcome = .failed
                $0.errorCode = status.code.canonicalName
                $0.errorMessage = status.message
            }
        }
    }

    private static func isMarketing(_ touchpoint: Customer360_V1_Touchpoint) -> Bool {
        [.campaignSent, .campaignOpen, .campaignClick].contains(touchpoint.kind)
    }

    /// How long one service's export stream may take.
    static let exportDeadline: Duration = .seconds(120)

    static func quoted(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The export stream: numbers the chunks in order.
final class ExportDocument: Sendable {
    private let response: RPCWriter<Customer360_V1_PrivacyExportChunk>
    private let sequence = Mutex<Int64>(0)

    init(response: RPCWriter<Customer360_V1_PrivacyExportChunk>) {
        self.response = response
    }

    /// Streams one service's export as `,"<service>":[chunk,…]`, each chunk as its protobuf JSON as it arrives.
    /// `export` calls the service and hands its stream of chunks to the body it is given.
    ///
    /// - Returns: Whether the service answered in full; when not, the array is closed where it broke and the caller
    ///   lists the service as missing.
    /// - Throws: When the document cannot be written (the client went away).
    func section<Chunk: SwiftProtobuf.Message>(
        _ service: String,
        _ export: (_ body: @escaping @Sendable (RPCAsyncSequence<Chunk, any Error>) async throws -> Void) async throws
            -> Void
    ) async throws -> Bool {
        try await send(service, ",\"\(service)\":[")
        var complete = true
        do {
            try await export { [self] chunks in
                var separator = ""
                for try await chunk in chunks {
                    try await send(service, separator + (try chunk.jsonString()))
                    separator = ","
                }
            }
        } catch {
            complete = false
        }
        try await send(service, "]")
        return complete
    }

    func send(_ service: String, _ json: String, last: Bool = false, missing: [String] = []) async throws {
        let number = sequence.withLock { value in
            defer { value += 1 }
            return value
        }
        try await response.write(
            .with {
                $0.sequence = number
                $0.service = service
                $0.json = json
                $0.last = last
                $0.missingServices = missing
            })
    }
}

import C360Clients
public import C360Contracts
import C360ServerKit
import C360StoreKit
public import Foundation
public import GRPCCore

/// The `customer360.v1.GatewayService` RPCs: what clients talk to. Access control happens before a handler runs
/// (`AccessControlInterceptor`); handlers audit, fan out or route to the owning service, and redact personal data
/// for roles that may not see it.
///
/// Split by aspect: the 360° view here, `+Routing`, `+Dashboard`, `+Access`, `+Privacy`.
public struct GatewayService: Customer360_V1_GatewayService.SimpleServiceProtocol {
    /// API keys and the audit log: this gateway's database, or its authority's.
    let records: any AccessRecords
    let peers: Peers
    let authenticator: Authenticator
    let now: @Sendable () -> Date

    public init(
        records: any AccessRecords, peers: Peers, authenticator: Authenticator,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.records = records
        self.peers = peers
        self.authenticator = authenticator
        self.now = now
    }

    public func getCustomer360(
        request: Customer360_V1_GetCustomer360Request, context: ServerContext
    ) async throws -> Customer360_V1_Customer360View {
        guard (0...100).contains(request.timelineLimit) else {
            throw InvalidArgument("timeline_limit", "must be 0 (default 20) to 100")
        }
        let wanted = try Customer360Section.parse(request.sections, field: "sections")
        let assembler = Customer360Assembler(peers: peers)
        let requested: String =
            switch request.lookup {
            case .customerID(let id): id
            default: ""
            }
        return try await audited(.read, customer: requested, context: context) {
            var view = try await assembler.view(
                for: request, wanted: wanted,
                timelineLimit: request.timelineLimit == 0 ? 20 : Int(request.timelineLimit))
            if !(Caller.current?.key.role.seesPersonalData ?? false) { Redaction.redact(&view) }
            return (view, view.customerID)
        }
    }

    // MARK: - Audit

    /// Runs `body` and records the call in the audit log with its outcome; `body` answers the result and the customer
    /// it concerned (known only after, e.g. for a created customer). A call whose audit record cannot be written
    /// fails: nothing is done without a trace.
    func audited<Result: Sendable>(
        _ action: AuditAction, customer: String, context: ServerContext, note: String = "",
        _ body: () async throws -> (Result, String)
    ) async throws -> Result {
        let outcome: Swift.Result<(Result, String), any Error>
        do {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
        let code: String
        var customerID = customer
        switch outcome {
        case .success(let (_, concerned)):
            code = "OK"
            if !concerned.isEmpty { customerID = concerned }
        case .failure(let error as RPCError): code = error.code.canonicalName
        case .failure(let error as any RPCErrorConvertible): code = RPCError(error).code.canonicalName
        case .failure: code = "INTERNAL"
        }
        if let caller = Caller.current {
            var record = AuditRecord(
                id: EntityID.generate(), occurredAt: now(), actorKeyID: caller.key.id, actorRole: caller.key.role,
                action: action, method: caller.httpRoute ?? "/" + context.descriptor.fullyQualifiedMethod,
                customerID: customerID, statusCode: code, requestID: RequestContext.current?.requestID ?? "",
                clientAddress: caller.clientAddress)
            record.note = note
            try await records.append(record)
        }
        return try outcome.get().0
    }

    /// Whether the caller may see personal data.
    var showsPersonalData: Bool { Caller.current?.key.role.seesPersonalData ?? false }
}

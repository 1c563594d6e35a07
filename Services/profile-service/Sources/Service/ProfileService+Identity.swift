import C360Clients
public import C360Contracts
import C360ServerKit
public import GRPCCore

extension ProfileService {
    public func mergeCustomers(
        request: Customer360_V1_MergeCustomersRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let survivor = try Validate.id(request.customerID, field: "customer_id")
        let merged = try Validate.id(request.mergedID, field: "merged_id")
        guard survivor != merged else {
            throw InvalidArgument("merged_id", "must differ from customer_id; a customer cannot be merged into itself")
        }
        let note = try Validate.text(request.note, field: "note", maxLength: Self.maximumNoteLength)
        let requestedBy = try Validate.text(
            request.requestedBy, field: "requested_by", maxLength: Self.maximumRequesterLength)
        let mergeRequest = MergeRequest(reason: .manual, note: note, requestedBy: requestedBy)
        let (result, entry): (CustomerProfile, MergeEntry?)
        if let index, let transfers, !index.owns(merged), let owner = index.customerShard(of: merged) {
            // The merged customer lives on another shard: its family is handed over and merged here.
            (result, entry) = try await transfers.merge(
                survivor: survivor, merged: merged, owner: owner, request: mergeRequest)
        } else {
            (result, entry) = try await store.merge(survivor: survivor, merged: merged, request: mergeRequest)
        }
        RequestContext.logger(or: .init(label: ServiceIdentity.profile.name)).notice(
            "customers merged",
            metadata: [
                "survivor": "\(result.id)", "merged": "\(merged)", "merge_id": "\(entry?.id ?? "-")",
            ])
        return result.proto
    }

    public func addIdentifier(
        request: Customer360_V1_AddIdentifierRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let id = try Validate.id(request.customerID, field: "customer_id")
        guard request.hasIdentifier else { throw InvalidArgument("identifier", "is required") }
        let identifier = try ProfileRequests.identifier(request.identifier, field: "identifier")
        guard let index else { return try await store.addIdentifier(identifier, to: id).proto }
        // Claimed for the customer that will hold it: a merged-away id's survivor.
        let holder = try await store.customer(id).id
        return try await index.claiming([identifier], for: holder) { notAfter in
            try await store.addIdentifier(identifier, to: id, notAfter: notAfter)
        }.proto
    }

    public func removeIdentifier(
        request: Customer360_V1_RemoveIdentifierRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let id = try Validate.id(request.customerID, field: "customer_id")
        guard request.hasIdentifier else { throw InvalidArgument("identifier", "is required") }
        let identifier = try ProfileRequests.identifier(request.identifier, field: "identifier")
        // The index entry stays: a release could race a concurrent add's renewal of the same claim. The next
        // claimant takes it over once this shard says nobody here holds the identifier; lookups already find none.
        return try await store.removeIdentifier(identifier, from: id).proto
    }
}

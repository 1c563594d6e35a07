public import C360Contracts
import C360ServerKit
public import GRPCCore

extension ProfileService {
    public func addTags(
        request: Customer360_V1_AddTagsRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let tags = try ProfileRequests.tags(request.tags, field: "tags")
        guard !tags.isEmpty else { throw InvalidArgument("tags", "name at least one tag") }
        return try await store.addTags(tags, to: id).proto
    }

    public func removeTags(
        request: Customer360_V1_RemoveTagsRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let tags = try ProfileRequests.tags(request.tags, field: "tags")
        guard !tags.isEmpty else { throw InvalidArgument("tags", "name at least one tag") }
        return try await store.removeTags(tags, from: id).proto
    }

    public func setAttributes(
        request: Customer360_V1_SetAttributesRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let attributes = try ProfileRequests.attributes(request.attributes, field: "attributes", allowEmptyValues: true)
        guard !attributes.isEmpty else { throw InvalidArgument("attributes", "set at least one attribute") }
        return try await store.setAttributes(attributes, on: id).proto
    }

    public func upsertTraits(
        request: Customer360_V1_UpsertTraitsRequest, context: ServerContext
    ) async throws -> Customer360_V1_Customer {
        let id = try Validate.id(request.customerID, field: "customer_id")
        let namespace = try ProfileRequests.traitName(request.namespace, field: "namespace")
        guard !request.traits.isEmpty else { throw InvalidArgument("traits", "set at least one trait") }
        guard request.traits.count <= 100 else { throw InvalidArgument("traits", "at most 100 traits per call") }
        var traits: [String: TraitValue] = [:]
        for name in request.traits.keys.sorted() {
            let validName = try ProfileRequests.traitName(name, field: "traits[\(name.prefix(32))]")
            traits[validName] = try ProfileRequests.traitValue(request.traits[name]!, field: "traits[\(name)]")
        }
        return try await store.upsertTraits(traits, namespace: namespace, on: id).proto
    }
}

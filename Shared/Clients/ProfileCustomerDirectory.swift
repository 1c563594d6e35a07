import C360Contracts
public import GRPCCore
import GRPCNIOTransportHTTP2

/// Resolves customers by asking profile-service's `GetCustomer`, under a deadline.
public struct ProfileCustomerDirectory: CustomerDirectory {
    private let profiles: Customer360_V1_ProfileService.Client<PeerTransport>
    private let deadline: Duration

    public init(client: GRPCClient<PeerTransport>, deadline: Duration = .seconds(2)) {
        self.profiles = Customer360_V1_ProfileService.Client(wrapping: client)
        self.deadline = deadline
    }

    public func resolve(_ customerID: String) async throws(CustomerLookupError) -> String {
        do {
            let customer = try await profiles.getCustomer(
                .with { $0.customerID = customerID }, options: .deadline(deadline))
            return customer.customerID
        } catch let error as RPCError {
            switch error.code {
            case .notFound, .invalidArgument:
                throw .unknown(customerID: customerID, reason: error.message)
            default:
                throw .unavailable("\(error.code): \(error.message)")
            }
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// Asks `ResolveCustomers`, a thousand distinct ids a call.
    public func resolveForWrite(_ customerIDs: [String]) async throws(CustomerLookupError)
        -> [String: Result<String, CustomerLookupError>]
    {
        var seen = Set<String>()
        let distinct = customerIDs.filter { seen.insert($0).inserted }
        var answers: [String: Result<String, CustomerLookupError>] = [:]
        var start = distinct.startIndex
        while start < distinct.endIndex {
            let end = min(start + Self.idsPerCall, distinct.endIndex)
            let chunk = Array(distinct[start..<end])
            start = end
            let response: Customer360_V1_ResolveCustomersResponse
            do {
                response = try await profiles.resolveCustomers(
                    .with { $0.customerIds = chunk }, options: .deadline(deadline))
            } catch let error as RPCError {
                // A refused id (malformed) would be a bug in the caller, which validates ids first; report it per id.
                guard error.code == .invalidArgument else { throw .unavailable("\(error.code): \(error.message)") }
                for id in chunk { answers[id] = .failure(.unknown(customerID: id, reason: error.message)) }
                continue
            } catch {
                throw .unavailable("\(error)")
            }
            for answer in response.customers {
                answers[answer.requestedID] =
                    answer.customerID.isEmpty
                    ? .failure(.unknown(customerID: answer.requestedID, reason: answer.unresolvedReason))
                    : .success(answer.customerID)
            }
        }
        return answers
    }

    /// What one `ResolveCustomers` call may carry (profile-service's limit).
    static let idsPerCall = 1_000
}

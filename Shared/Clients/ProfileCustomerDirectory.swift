import C360Contracts
public import GRPCCore
public import GRPCNIOTransportHTTP2

/// Resolves customers by asking profile-service's `GetCustomer`, under a deadline.
public struct ProfileCustomerDirectory: CustomerDirectory {
    private let profiles: Customer360_V1_ProfileService.Client<HTTP2ClientTransport.Posix>
    private let deadline: Duration

    public init(client: GRPCClient<HTTP2ClientTransport.Posix>, deadline: Duration = .seconds(2)) {
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
}

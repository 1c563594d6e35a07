import C360Contracts
import C360Interaction

extension Touchpoint {
    /// The `RecordTouchpoints` stream message a client sends for this touchpoint, with the customer id at the top
    /// level where a router would look. Uses interaction-service's own protobuf mapping.
    var streamMessage: Customer360_V1_RecordTouchpointsRequest {
        .with {
            $0.customerID = customerID
            $0.touchpoint = proto
        }
    }
}

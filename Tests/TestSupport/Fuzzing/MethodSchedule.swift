/// The sequence of requests a fuzzer sends to one RPC: first a plausible request and an empty one, then every leaf
/// field set to each of its extremes in a plausible request (leaf kinds most likely to trap first: timestamps and
/// durations, floating point, 64-bit integers, …; each leaf's worst extreme before any leaf's second), then random
/// requests for as long as the budget lasts.
///
/// Every request is drawn from the schedule's own random stream (the run's seed and the RPC's name), so the n-th
/// request of an RPC is the same in every run with that seed, whatever else runs.
public struct MethodSchedule: Sendable {
    /// The RPC this schedule calls.
    public let method: RPCMethodShape
    /// How many requests it has produced so far.
    public private(set) var position = 0
    /// Leaves (by label) not to try again, e.g. after one of their extremes crashed the service.
    public var skippedLeaves: Set<String> = []

    private let plan: [Step]
    private let leaves: [FuzzLeaf]
    private var rng: FuzzRandom

    private enum Step: Sendable {
        /// Leaf number `leaf` set to its extreme number `extreme`.
        case leaf(Int, extreme: Int)
        /// Malformed wire-format variant number `variant` of a plausible request.
        case wire(Int)
    }

    /// A schedule for `method`, its leaves and extremes taken from `generator`.
    public init(method: RPCMethodShape, generator: RequestGenerator, seed: UInt64) {
        self.method = method
        rng = FuzzRandom(seed: seed, stream: method.description)
        let leaves = generator.leaves(of: method.inputType)
        self.leaves = leaves
        let counts = leaves.map { generator.extremeCount(for: $0) }
        var plan: [Step] = []
        // Malformed wire format comes after the kinds most likely to trap (times, floating point, 64-bit integers).
        let wire = (0..<RequestGenerator.malformedVariantCount).map { Step.wire($0) }
        for kind in Set(leaves.map(\.kind)).sorted() {
            if kind >= .signed32, !plan.contains(where: { if case .wire = $0 { true } else { false } }) {
                plan += wire
            }
            let ofKind = leaves.indices.filter { leaves[$0].kind == kind }
            for extreme in 0..<(ofKind.map { counts[$0] }.max() ?? 0) {
                for leaf in ofKind where extreme < counts[leaf] {
                    plan.append(.leaf(leaf, extreme: extreme))
                }
            }
        }
        if !plan.contains(where: { if case .wire = $0 { true } else { false } }) { plan += wire }
        self.plan = plan
    }

    /// How many systematic requests (leaf × extreme) the schedule holds before its random ones.
    public var systematicCount: Int {
        plan.count
    }

    /// The next request, its messages drawn with `generator` (whose known ids may have grown since the last one).
    public mutating func next(using generator: RequestGenerator) -> FuzzCase {
        defer { position += 1 }
        var head = [Special.plausible, .empty]
        if method.clientStreaming { head.append(.emptyStream) }
        let index = position
        if index < head.count {
            let message: FuzzMessage
            switch head[index] {
            case .plausible: message = generator.validMessage(method.inputType, rng: &rng)
            case .empty, .emptyStream: message = FuzzMessage(typeName: method.inputType)
            }
            let messages = head[index] == .emptyStream ? [] : streamed(message, generator)
            return FuzzCase(method: method, index: index, label: head[index].rawValue, leaf: nil, messages: messages)
        }
        var planIndex = index - head.count
        while planIndex < plan.count, case .leaf(let leaf, _) = plan[planIndex],
            skippedLeaves.contains(leaves[leaf].label)
        {
            planIndex += 1
            position += 1
        }
        if planIndex < plan.count {
            let base = generator.validMessage(method.inputType, rng: &rng)
            switch plan[planIndex] {
            case .leaf(let leafIndex, let extremeIndex):
                let leaf = leaves[leafIndex]
                let extremes = generator.extremes(for: leaf, rng: &rng)
                let extreme = extremes[min(extremeIndex, extremes.count - 1)]
                let message = generator.setting(leaf.path[...], to: extreme.values, in: base, rng: &rng)
                return FuzzCase(
                    method: method, index: position, label: "\(leaf.label) = \(extreme.label)", leaf: leaf.label,
                    messages: streamed(message, generator))
            case .wire(let variant):
                let malformed = generator.malformedVariant(variant, of: base, rng: &rng)
                var fuzzCase = FuzzCase(
                    method: method, index: position, label: malformed.label, leaf: malformed.label,
                    messages: streamed(base, generator))
                fuzzCase.malformed = (fuzzCase.messages.count == 3 ? 1 : 0, malformed.bytes)
                return fuzzCase
            }
        }
        return randomCase(number: position - plan.count - head.count, using: generator)
    }

    /// Two kinds of random request, half each: a plausible one with one to three leaves set to random extremes
    /// (deep, and still attributable), or one random through and through.
    private mutating func randomCase(number: Int, using generator: RequestGenerator) -> FuzzCase {
        if !leaves.isEmpty, rng.chance(0.5) {
            var message = generator.validMessage(method.inputType, rng: &rng)
            var labels: [String] = []
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let leaf = leaves.randomElement(using: &rng)!
                let extreme = generator.extremes(for: leaf, rng: &rng).randomElement(using: &rng)!
                message = generator.setting(leaf.path[...], to: extreme.values, in: message, rng: &rng)
                labels.append("\(leaf.label) = \(extreme.label)")
            }
            return FuzzCase(
                method: method, index: position, label: "random #\(number): " + labels.joined(separator: ", "),
                leaf: nil, messages: streamed(message, generator))
        }
        let message = generator.randomMessage(method.inputType, rng: &rng)
        return FuzzCase(
            method: method, index: position, label: "random #\(number)", leaf: nil,
            messages: streamed(message, generator))
    }

    /// For a client-streaming RPC the message under test between two plausible ones; otherwise just the message.
    private mutating func streamed(_ message: FuzzMessage, _ generator: RequestGenerator) -> [FuzzMessage] {
        guard method.clientStreaming else { return [message] }
        return [
            generator.validMessage(method.inputType, rng: &rng), message,
            generator.validMessage(method.inputType, rng: &rng),
        ]
    }

    private enum Special: String {
        case plausible = "plausible request"
        case empty = "empty request (every field default)"
        case emptyStream = "empty request stream"
    }
}

/// One request of a schedule: what is sent, and a label that says how it was made.
public struct FuzzCase: Sendable {
    /// The RPC it calls.
    public var method: RPCMethodShape
    /// Its position in the RPC's schedule (replay: same seed, same position).
    public var index: Int
    /// How it was made, e.g. "touchpoint.occurred_at = seconds Int64.min" or "random #12".
    public var label: String
    /// The leaf a systematic request sets to an extreme, `nil` for the others.
    public var leaf: String?
    /// The request messages: one, or several for a client-streaming RPC.
    public var messages: [FuzzMessage]
    /// For a malformed-wire case: which message is sent as which bytes instead of its encoding.
    public var malformed: (index: Int, bytes: [UInt8])?

    public init(method: RPCMethodShape, index: Int, label: String, leaf: String?, messages: [FuzzMessage]) {
        self.method = method
        self.index = index
        self.label = label
        self.leaf = leaf
        self.messages = messages
    }

    /// The messages in wire format.
    public var encodedMessages: [[UInt8]] {
        var encoded = messages.map { $0.encoded() }
        if let malformed, malformed.index < encoded.count { encoded[malformed.index] = malformed.bytes }
        return encoded
    }

    /// The request in text form, long values shortened; several messages separated by " | ".
    public var requestText: String {
        guard !messages.isEmpty else { return "(no messages)" }
        return messages.enumerated().map { index, message in
            if let malformed, malformed.index == index {
                return "{ \(malformed.bytes.count) malformed bytes around: \(message.textDescription) }"
            }
            return "{ \(message.textDescription) }"
        }.joined(separator: " | ")
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes, and says whether it held: for an effect that no
/// feed or signal announces (a mover's progress line, rows handed between shards). Where a change event announces the
/// effect, wait for the event instead (`ChangeFeedWait`).
public func eventually(timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

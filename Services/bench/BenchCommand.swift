import ArgumentParser
import C360ServerKit

/// `bench`: measures Customer 360 and prints numbers. It is a benchmark, not a test: it never fails on a slow
/// result, it reports it.
///
/// Run it from a release build (`swift build -c release`, then `.build/release/bench …`): a debug build measures the
/// compiler's debug code, not ours. `bench ingest` starts the `profile-service` and `interaction-service` executables
/// found beside itself, so build all products in the same configuration first.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Customer 360 benchmarks: ingest throughput (gRPC vs. direct) and query latency.",
        discussion: """
            Build in release mode first (swift build -c release) and run .build/release/bench. Every subcommand \
            works in fresh temporary directories and removes them when it ends.
            """,
        version: C360Version.current,
        subcommands: [
            IngestBenchmark.self, QueriesBenchmark.self, ViewBenchmark.self, ForwardBenchmark.self, FeedBenchmark.self,
            SegmentBenchmark.self, RescoreBenchmark.self, SendBenchmark.self, SealBenchmark.self, ShardsBenchmark.self,
            ReshardBenchmark.self, ReplicasBenchmark.self,
        ]
    )
}

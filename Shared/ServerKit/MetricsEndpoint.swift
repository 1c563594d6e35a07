import Foundation
import Hummingbird
public import Logging
import Metrics
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// Prometheus metrics for the process: bootstraps swift-metrics once and serves `GET /metrics` in the text
/// exposition format on its own port.
public enum MetricsEndpoint {
    /// The registry every metric of this process lands in.
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped = Atomic<Bool>(false)

    /// Routes swift-metrics to the Prometheus registry; only the first call takes effect.
    public static func bootstrap() {
        guard bootstrapped.exchange(true, ordering: .relaxed) == false else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// An HTTP server answering `/metrics` on host:port (0 picks a free port; the bound port is logged).
    /// `beforeScrape` refreshes gauges read from outside the process's own counters (the database's size on disk).
    public static func service(
        host: String, port: Int, logger: Logger, beforeScrape: @escaping @Sendable () -> Void = {}
    ) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            beforeScrape()
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: buffer))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "metrics"),
            onServerRunning: { channel in
                logger.notice(
                    "metrics listening",
                    metadata: [
                        "url": "http://\(host):\(channel.localAddress?.port ?? port)/metrics"
                    ])
            },
            logger: logger
        )
    }
}

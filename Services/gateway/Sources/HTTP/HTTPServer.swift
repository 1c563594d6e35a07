public import C360Clients
import C360ServerKit
import Foundation
import GRPCCore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCertificateReloading
import NIOSSL
public import ServiceLifecycle

/// The gateway's HTTP server: the JSON API (`POST /api/v1/<Method>`) and the web dashboard (`GET /`).
public enum HTTPServer {
    /// Largest request body accepted.
    static let maxBody = 1 << 20

    /// An HTTP server on host:port (0 picks a free port, written to `portFile` once listening); HTTPS only when
    /// given the process's TLS identity, with the certificate the gRPC port uses (reloaded with it). Clients of this
    /// port authenticate with API keys, so it asks for no client certificate.
    public static func service(
        host: String, port: Int, portFile: String?, tls: TLSIdentity?, api: JSONAPI, logger: Logger
    ) throws -> some Service {
        let router = Router()
        router.get("/") { _, _ in asset(DashboardAssets.indexHTML, type: "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in asset(DashboardAssets.appJS, type: "text/javascript; charset=utf-8") }
        router.get("/style.css") { _, _ in asset(DashboardAssets.styleCSS, type: "text/css; charset=utf-8") }
        // Both routes name their first segment alike: Hummingbird's router refuses two parameters of different names
        // at one position.
        router.post("/api/v1/:name") { request, context -> Response in
            let method = context.parameters.get("name") ?? ""
            return await answer(request, route: "/api/v1/\(method)") { body, metadata in
                if let stream = try api.stream(method, body: body, metadata: metadata) { return stream }
                guard let json = try await api.call(method, body: body, metadata: metadata) else {
                    throw RPCError(
                        code: .notFound,
                        message:
                            "no method \(method); the API has \(api.methods.joined(separator: ", ")), and every RPC as /api/v1/<package.Service>/<Method>"
                    )
                }
                return HTTPStream(contentType: "application/json") { emit in try await emit(json) }
            }
        }
        // Every RPC of every service the contracts declare, by its full name, e.g.
        // /api/v1/customer360.v1.ProfileService/GetLoyalty.
        router.post("/api/v1/:name/:method") { request, context -> Response in
            let service = context.parameters.get("name") ?? ""
            let method = context.parameters.get("method") ?? ""
            return await answer(request, route: "/api/v1/\(service)/\(method)") { body, metadata in
                guard
                    let stream = try api.contract.call(service: service, method: method, body: body, metadata: metadata)
                else {
                    throw RPCError(
                        code: .unimplemented, message: "the contracts declare no method \(service)/\(method)")
                }
                return stream
            }
        }
        let scheme = tls == nil ? "http" : "https"
        let server: HTTPServerBuilder
        if let tls {
            var configuration = try TLSConfiguration.makeServerConfiguration(certificateReloader: tls.reloader)
            configuration.minimumTLSVersion = .tlsv12
            configuration.applicationProtocols = ["http/1.1"]
            server = try .tls(.http1(), tlsConfiguration: configuration)
        } else {
            server = .http1()
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "customer360-gateway"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                if let portFile {
                    do {
                        try PortFile.write(bound, to: portFile)
                    } catch {
                        logger.error(
                            "could not write the HTTP port file",
                            metadata: ["port_file": "\(portFile)", "error": "\(error)"])
                    }
                }
                logger.notice(
                    "HTTP listening",
                    metadata: [
                        "url": "\(scheme)://\(host):\(bound)/", "api": "\(scheme)://\(host):\(bound)/api/v1/<Method>",
                        "port_file": "\(portFile ?? "-")",
                    ])
            },
            logger: logger
        )
    }

    /// The JSON error answer for a failed call.
    /// Reads the body and the headers a call needs (the API key, the request id, the route for the audit log), makes
    /// the call and answers its JSON, or the error with its HTTP status when it failed before its first part.
    private static func answer(
        _ request: Request, route: String, _ call: @Sendable (ByteBuffer, Metadata) async throws -> HTTPStream
    ) async -> Response {
        var request = request
        var metadata = Metadata()
        if let value = request.headers[.authorization] { metadata.addString(value, forKey: "authorization") }
        for field in request.headers where field.name.canonicalName == RequestContext.requestIDKey {
            metadata.addString(field.value, forKey: RequestContext.requestIDKey)
        }
        metadata.addString("http \(request.method.rawValue) \(route)", forKey: AccessControlInterceptor.httpRouteKey)
        do {
            let body = try await request.collectBody(upTo: maxBody)
            let stream = try await call(body, metadata)
            return await stream.response(error: response(for:))
        } catch {
            return response(for: error)
        }
    }

    static func response(for failure: any Error) -> Response {
        if let rpc = failure as? RPCError {
            var response = error(status(for: rpc.code), code: rpc.code.canonicalName, message: rpc.message)
            if let wait = rpc.metadata[stringValues: "retry-after"].first(where: { _ in true }) {
                response.headers[.retryAfter] = String(wait)
            }
            return response
        }
        return error(.badRequest, code: "INVALID_ARGUMENT", message: "the request could not be read: \(failure)")
    }

    /// The HTTP status for a gRPC status (as grpc-gateway maps them).
    static func status(for code: RPCError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalidArgument, .failedPrecondition, .outOfRange: .badRequest
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .alreadyExists, .aborted: .conflict
        case .resourceExhausted: .tooManyRequests
        case .unimplemented: .notImplemented
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        case .cancelled: .init(code: 499, reasonPhrase: "Client Closed Request")
        default: .internalServerError
        }
    }

    private static func error(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["code": code, "message": message])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

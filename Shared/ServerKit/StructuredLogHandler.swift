public import ArgumentParser
import Foundation
public import Logging
import Synchronization

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable, ExpressibleByArgument {
    /// `2026-11-24T10:00:00.123Z info profile-service: listening host=127.0.0.1 port=50051`
    case text
    /// One JSON object per line, for log shippers.
    case json
}

/// A swift-log handler that writes one line per event to standard error, as key=value text or JSON, and flushes
/// each line so nothing is lost when the process is killed.
public struct StructuredLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat

    public init(label: String, level: Logger.Level, format: LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    /// Installs this handler for the whole process; only the first call takes effect.
    public static func bootstrap(level: Logger.Level, format: LogFormat) {
        guard bootstrapped.exchange(true, ordering: .relaxed) == false else { return }
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, level: level, format: format) }
    }

    private static let bootstrapped = Atomic<Bool>(false)

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let time = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let line: String
        switch format {
        case .text:
            let pairs = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted("\($0.value)"))" }
            line = ([time, event.level.rawValue, "\(label):", event.message.description] + pairs)
                .joined(separator: " ")
        case .json:
            var object: [String: String] = [
                "time": time, "level": event.level.rawValue, "logger": label,
                "message": event.message.description,
            ]
            for (key, value) in merged { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Quotes a value that would otherwise break key=value parsing.
    static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline })
        else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}

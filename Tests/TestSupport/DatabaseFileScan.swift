public import Foundation

/// One value found, as raw UTF-8 bytes, in one file of a database.
public struct FoundValue: Sendable, Equatable, CustomStringConvertible {
    /// The file's path.
    public var file: String
    public var value: String
    /// How often the bytes occur in the file.
    public var occurrences: Int

    public var description: String {
        "'\(value)' \(occurrences)× in \(file)"
    }
}

/// Reads a database's files the way someone holding the disk would: byte by byte, ignoring what SQLite considers
/// live. Erasure tests use it to prove that deleted personal data is in no file — not in free space, free pages, the
/// WAL or its index — which no query can show.
public enum DatabaseFileScan {
    /// The SQLite files in `directory` and its subdirectories: databases (`*.sqlite`), their write-ahead logs
    /// (`*-wal`), WAL indexes (`*-shm`) and rollback journals (`*-journal`), sorted by path.
    public static func databaseFiles(in directory: URL) throws -> [URL] {
        let suffixes = [".sqlite", "-wal", "-shm", "-journal"]
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            return []
        }
        var files: [URL] = []
        for case let url as URL in walker where suffixes.contains(where: url.lastPathComponent.hasSuffix) {
            files.append(url)
        }
        return files.sorted { $0.path < $1.path }
    }

    /// Every value of `values` whose UTF-8 bytes occur in one of `files`, file by file.
    public static func find(_ values: [String], in files: [URL]) throws -> [FoundValue] {
        var found: [FoundValue] = []
        for file in files {
            let bytes = try Data(contentsOf: file)
            for value in values {
                let count = occurrences(of: Data(value.utf8), in: bytes)
                if count > 0 { found.append(FoundValue(file: file.path, value: value, occurrences: count)) }
            }
        }
        return found
    }

    /// Every value of `values` found in the SQLite files under `directory`.
    public static func find(_ values: [String], under directory: URL) throws -> [FoundValue] {
        try find(values, in: databaseFiles(in: directory))
    }

    /// Runs `body` with a fresh temporary directory and removes it afterwards: where a store test opens an on-disk
    /// database (an in-memory one has no files to scan).
    public static func withTemporaryDirectory<Result>(_ body: (URL) async throws -> Result) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("c360-scan-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    /// How often `needle` occurs in `haystack` (non-overlapping).
    static func occurrences(of needle: Data, in haystack: Data) -> Int {
        precondition(!needle.isEmpty, "an empty value would match everywhere")
        var count = 0
        var searchStart = haystack.startIndex
        while let range = haystack.range(of: needle, in: searchStart..<haystack.endIndex) {
            count += 1
            searchStart = range.upperBound
        }
        return count
    }
}

import C360StoreKit
import Foundation
import Testing

@Suite("Entity ids")
struct EntityIDTests {
    @Test("ids are well-formed UUIDv7 strings that strictly increase within a process")
    func monotonic() {
        let ids = (0..<5_000).map { _ in EntityID.generate() }
        #expect(ids.allSatisfy(EntityID.isWellFormed))
        #expect(ids.allSatisfy { $0[$0.index($0.startIndex, offsetBy: 14)] == "7" })
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        #expect(Set(ids).count == ids.count)
    }

    @Test("the first 48 bits are the creation time in Unix milliseconds")
    func timePrefix() throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        let id = EntityID.generate()
        let hex = id.replacingOccurrences(of: "-", with: "").prefix(12)
        let millis = try #require(UInt64(hex, radix: 16))
        #expect(millis >= before && millis < before + 5_000)
    }

    @Test(
        "only lower-case UUIDs are accepted",
        arguments: [
            ("01890000-0000-7000-8000-000000000000", true), ("01890000-0000-7000-8000-00000000000", false),
            ("01890000-0000-7000-8000-00000000000G", false), ("01890000-0000-7000-8000-00000000000A", false),
            ("018900000000-7000-8000-0000000000000", false), ("", false),
        ])
    func wellFormed(text: String, expected: Bool) {
        #expect(EntityID.isWellFormed(text) == expected)
    }
}

@Suite("Page tokens")
struct PageTokenTests {
    struct Position: Codable, Sendable, Equatable {
        var at: Double
        var id: String
    }

    @Test("a token round-trips its position and is URL-safe")
    func roundTrip() throws {
        let token = PageToken(position: Position(at: 12.5, id: "x/y+z"), filter: "country=IR")
        let text = token.encoded()
        #expect(!text.contains("+") && !text.contains("/") && !text.contains("="))
        #expect(try PageToken<Position>.decode(text, filter: "country=IR") == token)
        #expect(try PageToken<Position>.decode("", filter: "country=IR") == nil)
    }

    @Test("a token for another filter, or one we did not issue, is refused")
    func refused() {
        let text = PageToken(position: "abc", filter: "a").encoded()
        #expect(throws: PageTokenError.filterChanged) { try PageToken<String>.decode(text, filter: "b") }
        #expect(throws: PageTokenError.malformed) { try PageToken<String>.decode("%%%", filter: "a") }
        #expect(throws: PageTokenError.malformed) { try PageToken<Int>.decode(text, filter: "a") }
    }

    @Test("page sizes: 0 means the default, 1...500 as asked, anything else is refused")
    func pageSizes() {
        #expect(PageSize.resolve(0) == 50)
        #expect(PageSize.resolve(1) == 1)
        #expect(PageSize.resolve(500) == 500)
        #expect(PageSize.resolve(501) == nil)
        #expect(PageSize.resolve(-1) == nil)
    }
}

@Suite("JSON columns")
struct JSONColumnTests {
    @Test("a string map is written with its keys sorted and reads back whole, whatever its strings hold")
    func stringMap() throws {
        let map = [
            "z": "last", "a": "first", "quote\"d": "back\\slash", "lines": "one\ntwo\r\tthree",
            "control": "\u{01}\u{1F}", "fa": "سلام\u{200C}دنیا", "emoji": "🛒", "": "",
        ]
        let json = JSONColumn.encode(map)
        #expect(try JSONColumn.decode([String: String].self, json) == map)
        #expect(json.hasPrefix(#"{"":"","a":"first","control":"\u0001\u001f","emoji":"🛒","#))
        #expect(JSONColumn.encode([:]) == "{}")
        #expect(JSONColumn.encode(["k": "v"]) == #"{"k":"v"}"#)
    }
}

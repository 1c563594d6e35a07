import C360TestSupport
import Foundation
import GRDB
import Testing

@testable import C360StoreKit

@Suite("Keyring: per-customer data keys wrapped by the KEK, sealing, shredding, rotation")
struct KeyringTests {
    @Test("what is sealed for a customer opens to the same text; the bytes hold neither the text nor the key")
    func sealAndOpen() throws {
        let keyring = try Keyring.inMemory()
        let sealed = try keyring.seal("Xanthippa Quillbrook", for: "c-1")
        #expect(try keyring.open(sealed) == "Xanthippa Quillbrook")
        #expect(!sealed.combined.contains(Data("Xanthippa".utf8)))
        // A fresh nonce each time: equal texts do not give equal ciphertexts (blind indexes are for equality).
        #expect(try keyring.seal("Xanthippa Quillbrook", for: "c-1") != sealed)
        #expect(try keyring.seal("", for: "c-1") == .empty)
        #expect(try keyring.open(.empty) == "")
    }

    @Test("a shredded customer's values never open again, while other customers' do")
    func shred() throws {
        let keyring = try Keyring.inMemory()
        let gone = try keyring.seal("erase me", for: "c-gone")
        let kept = try keyring.seal("keep me", for: "c-kept")
        try keyring.shred(["c-gone"])
        #expect(throws: KeyringError.shredded(customerID: "c-gone")) { try keyring.open(gone) }
        #expect(try keyring.open(kept) == "keep me")
        #expect(try keyring.existingDataKey(for: "c-gone") == nil)
    }

    @Test("an altered byte, or a value relabelled as another customer's, is refused as tampered")
    func tampering() throws {
        let keyring = try Keyring.inMemory()
        let sealed = try keyring.seal("hello", for: "c-1")
        _ = try keyring.seal("other", for: "c-2")
        var bytes = sealed.combined
        bytes[bytes.index(before: bytes.endIndex)] ^= 0x01
        #expect(throws: KeyringError.tampered(customerID: "c-1")) { try keyring.open(SealedText(combined: bytes)) }
        // Same length owner id, so only the binding (the authenticated owner) differs.
        var relabelled = sealed.combined
        relabelled.replaceSubrange(1..<4, with: Data("c-2".utf8))
        #expect(throws: KeyringError.tampered(customerID: "c-2")) { try keyring.open(SealedText(combined: relabelled)) }
    }

    @Test("blind indexes are equal for equal values and purposes only, and keep their value across a KEK rotation")
    func blindIndex() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("keyring.sqlite").path
            let old = KeyEncryptionKey.generate()
            let new = KeyEncryptionKey.generate()
            let before = try Keyring(database: DatabaseQueue(path: path), kek: old)
            let index = before.blindIndex("ada@example.com", purpose: "identifier:email")
            #expect(index == before.blindIndex("ada@example.com", purpose: "identifier:email"))
            #expect(index != before.blindIndex("ada@example.com", purpose: "identifier:phone"))
            #expect(index != before.blindIndex("ada@example.org", purpose: "identifier:email"))
            // A fixed-length hex digest, never the value (checking that it lacks "ada" failed whenever the random
            // key made those three hex digits appear).
            #expect(index.count == 32 && index.allSatisfy(\.isHexDigit))
            let after = try Keyring(database: DatabaseQueue(path: path), kek: new, retired: [old])
            #expect(after.blindIndex("ada@example.com", purpose: "identifier:email") == index)
        }
    }

    @Test(
        "keyrings given the deployment's blind-index key index alike under their own KEKs; a keyring holding another key is refused"
    )
    func sharedBlindIndexKey() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let shared = KeyEncryptionKey.generate()
            let first = try Keyring(
                database: DatabaseQueue(path: directory.appendingPathComponent("a.sqlite").path),
                kek: .generate(), sharedIndexKey: shared)
            let secondPath = directory.appendingPathComponent("b.sqlite").path
            let second = try Keyring(
                database: DatabaseQueue(path: secondPath), kek: .generate(), sharedIndexKey: shared)
            let own = try Keyring.inMemory()
            let index = first.blindIndex("ada@example.com", purpose: "identifier:email")
            #expect(second.blindIndex("ada@example.com", purpose: "identifier:email") == index)
            #expect(own.blindIndex("ada@example.com", purpose: "identifier:email") != index)

            let ownPath = directory.appendingPathComponent("own.sqlite").path
            let kek = KeyEncryptionKey.generate()
            _ = try Keyring(database: DatabaseQueue(path: ownPath), kek: kek)
            #expect(throws: KeyringError.self) {
                _ = try Keyring(database: DatabaseQueue(path: ownPath), kek: kek, sharedIndexKey: shared)
            }
        }
    }

    @Test(
        "rotation re-wraps every key under the new KEK in batches; afterwards the old KEK is not needed, and a wrong one is refused naming the key"
    )
    func rotation() async throws {
        try await DatabaseFileScan.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("keyring.sqlite").path
            let old = KeyEncryptionKey.generate()
            let new = KeyEncryptionKey.generate()
            let first = try Keyring(database: DatabaseQueue(path: path), kek: old)
            let sealed = try (0..<25).map { try first.seal("customer \($0)", for: "c-\($0)") }

            let rotating = try Keyring(database: DatabaseQueue(path: path), kek: new, retired: [old])
            #expect(try rotating.keysToRewrap() == 26) // 25 customers and the blind-index key
            #expect(try rotating.open(sealed[3]) == "customer 3") // readable mid-rotation
            var batches = 0
            while try rotating.rewrap(limit: 10) > 0 { batches += 1 }
            #expect(batches == 3)
            #expect(try rotating.keysToRewrap() == 0)

            let rotated = try Keyring(database: DatabaseQueue(path: path), kek: new)
            for (index, value) in sealed.enumerated() { #expect(try rotated.open(value) == "customer \(index)") }
            #expect(throws: KeyringError.unknownKeyEncryptionKey(id: new.id)) {
                _ = try Keyring(database: DatabaseQueue(path: path), kek: old)
            }
        }
    }

    @Test("hex is two lower-case digits per byte, in order")
    func hex() {
        #expect(Hex.encode([0x00, 0x0f, 0xab, 0xff]) == "000fabff")
        #expect(Hex.encode([UInt8]()) == "")
    }

    @Test("a KEK is read as base64 or 64 hex digits; anything else is refused saying how to make one")
    func keyFormats() throws {
        let key = KeyEncryptionKey.generate()
        #expect(try KeyEncryptionKey(text: key.base64 + "\n", source: "test").id == key.id)
        let hex = key.bytes.map { String(format: "%02x", $0) }.joined()
        #expect(try KeyEncryptionKey(text: hex, source: "test").id == key.id)
        #expect(throws: KeyringError.self) { _ = try KeyEncryptionKey(text: "REPLACE-ME", source: "test") }
        do {
            _ = try KeyEncryptionKey(text: Data(count: 16).base64EncodedString(), source: "kek file x")
            Issue.record("a 128-bit key was accepted")
        } catch {
            #expect(error.description.contains("openssl rand -base64 32"))
        }
    }
}

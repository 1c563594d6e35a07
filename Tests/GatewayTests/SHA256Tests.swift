@testable import C360Gateway
import Testing

@Suite("SHA-256 against the FIPS 180-4 test vectors")
struct SHA256Tests {
    @Test("the empty message")
    func emptyMessage() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("\"abc\" (one block)")
    func abc() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("the 448-bit message (padding spills into a second block)")
    func twoBlocks() {
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("the 896-bit message")
    func longMessage() {
        let message = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        #expect(SHA256.hex(message) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    @Test("one million 'a'")
    func millionA() {
        #expect(SHA256.hex(String(repeating: "a", count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 55/56 and 63/64 byte padding boundaries (digests from `sha256sum`).
    @Test("messages of 'a' at the padding boundaries", arguments: zip(
        [55, 56, 63, 64, 65, 119, 120],
        [
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
            "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
        ]))
    func paddingBoundaries(length: Int, digest: String) {
        #expect(SHA256.hex(String(repeating: "a", count: length)) == digest, "\(length) bytes")
    }

    @Test("a string is hashed as its UTF-8 bytes")
    func utf8() {
        #expect(SHA256.hex("Gr\u{00FC}\u{00DF}e") == "f83e039796c6453a10f5519e39fd113901572316a1a8ea07cb525d2801dfd074")
        // Canonically equivalent strings (equal as Swift strings) with different bytes hash differently.
        #expect(SHA256.hex("Gr\u{00FC}\u{00DF}e") != SHA256.hex("Gru\u{0308}\u{00DF}e"))
    }

    @Test("the raw digest is 32 big-endian bytes")
    func rawDigest() {
        let digest = SHA256.hash(Array("abc".utf8))
        #expect(digest.count == 32)
        #expect(Array(digest.prefix(4)) == [0xba, 0x78, 0x16, 0xbf])
        #expect(Array(digest.suffix(4)) == [0xf2, 0x00, 0x15, 0xad])
    }
}

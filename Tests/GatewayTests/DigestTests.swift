import Testing

@testable import C360Gateway

@Suite("Hex SHA-256 digests of API key secrets and audit records")
struct DigestTests {
    @Test("FIPS 180-4 vectors come out as 64 lowercase hex digits")
    func vectors() {
        #expect(Digest.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a string is hashed as its UTF-8 bytes")
    func utf8() {
        #expect(
            Digest.sha256Hex("Gr\u{00FC}\u{00DF}e")
                == "f83e039796c6453a10f5519e39fd113901572316a1a8ea07cb525d2801dfd074")
        // Canonically equivalent strings (equal as Swift strings) with different bytes hash differently.
        #expect(Digest.sha256Hex("Gr\u{00FC}\u{00DF}e") != Digest.sha256Hex("Gru\u{0308}\u{00DF}e"))
    }
}

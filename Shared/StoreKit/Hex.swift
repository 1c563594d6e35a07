/// Lower-case hexadecimal of bytes.
///
/// `String(format: "%02x")` per byte goes through Foundation's formatter: a profile of CreateCustomer showed it at a
/// tenth of the CPU (an id and a dozen blind indexes per customer). A table lookup per nibble is all this needs.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

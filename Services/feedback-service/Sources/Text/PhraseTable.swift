/// Terms of one or more tokens with a value each, found at a position by longest match.
struct PhraseTable: Sendable {
    private var byFirstToken: [String: [(tokens: [String], value: Double)]] = [:]

    /// Parses "term value" lines; each term is normalised into tokens like the text it is matched against.
    /// Lines whose last field is not a number are reported in `invalidLines`.
    init(lines: String) {
        for line in lines.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 2, let value = Double(fields[fields.count - 1]) else {
                if !fields.isEmpty { invalidLines.append(String(line)) }
                continue
            }
            let tokens = TextNormalizer.tokens(fields.dropLast().joined(separator: " "))
            guard let first = tokens.first else { continue }
            byFirstToken[first, default: []].append((tokens, value))
        }
        for key in byFirstToken.keys {
            byFirstToken[key]?.sort { $0.tokens.count > $1.tokens.count }
        }
    }

    /// Lines that could not be parsed (a test keeps this empty).
    private(set) var invalidLines: [String] = []

    var count: Int { byFirstToken.values.reduce(0) { $0 + $1.count } }

    /// The longest term starting at `index`: how many tokens it spans and its value.
    func match(in tokens: [String], at index: Int) -> (length: Int, value: Double)? {
        guard let candidates = byFirstToken[tokens[index]] else { return nil }
        for candidate in candidates where index + candidate.tokens.count <= tokens.count {
            if candidate.tokens.count == 1 || Array(tokens[index..<index + candidate.tokens.count]) == candidate.tokens
            {
                return (candidate.tokens.count, candidate.value)
            }
        }
        return nil
    }

    /// The value of a one-token term.
    func value(of token: String) -> Double? {
        byFirstToken[token]?.last(where: { $0.tokens.count == 1 })?.value
    }
}

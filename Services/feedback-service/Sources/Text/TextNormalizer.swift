/// Turns a comment into the tokens sentiment and themes work on, the same way for the text and for the lexicon.
///
/// Lower-cases; unifies Arabic and Persian letter forms (ي ى → ی, ك → ک, ة → ه, أ إ → ا); removes diacritics,
/// tatweel and the zero-width non-joiner, so "می‌خواهم", "میخواهم" and "می خواهم" are one token; maps Persian and
/// Arabic-Indic digits to ASCII. Tokens are runs of letters, digits and inner apostrophes; every emoji is a token
/// of its own; everything else separates tokens.
public enum TextNormalizer {
    /// Stands between clauses in `tokens(_:boundaries: true)`: where punctuation ended a clause.
    public static let boundary = "|"

    /// The normalised tokens of `text`; with `boundaries`, clause punctuation (, . ; : ! ? ، ؛ ؟ and line breaks)
    /// leaves a `boundary` token, so negation and intensifiers do not reach across it.
    public static func tokens(_ text: String, boundaries: Bool = false) -> [String] {
        var tokens: [String] = []
        var current = ""
        func flush() {
            let word = current.trimmingApostrophes()
            if !word.isEmpty { tokens.append(word) }
            current = ""
        }
        for character in normalized(text) {
            if character.isLetter || character.isNumber || character == "'" {
                current.append(character)
            } else if character.isEmojiToken {
                flush()
                tokens.append(String(String.UnicodeScalarView(character.unicodeScalars.filter { $0.value != 0xFE0F })))
            } else {
                flush()
                if boundaries, character.isClausePunctuation, let last = tokens.last, last != boundary {
                    tokens.append(boundary)
                }
            }
        }
        flush()
        return joinPersianAffixes(tokens)
    }

    /// The text with letter forms unified, marks removed and digits mapped, lower-cased.
    static func normalized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            switch scalar.value {
            case 0x064A, 0x0649: scalars.append("\u{06CC}") // Arabic yeh, alef maksura → Persian yeh
            case 0x0643: scalars.append("\u{06A9}") // Arabic kaf → Persian keheh
            case 0x0629: scalars.append("\u{0647}") // teh marbuta → heh
            case 0x0623, 0x0625: scalars.append("\u{0627}") // alef with hamza → alef
            case 0x064B...0x065F, 0x0670, 0x0640, 0x200C, 0x200F, 0x200E: continue // harakat, tatweel, ZWNJ, marks
            case 0x06F0...0x06F9: scalars.append(Unicode.Scalar(scalar.value - 0x06F0 + 0x30)!)
            case 0x0660...0x0669: scalars.append(Unicode.Scalar(scalar.value - 0x0660 + 0x30)!)
            case 0x2018, 0x2019, 0x02BC: scalars.append("'")
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    /// Joins the verb prefixes written apart ("می خواهم") to their verb and plural suffixes written apart
    /// ("کتاب ها") to their noun.
    private static func joinPersianAffixes(_ tokens: [String]) -> [String] {
        var joined: [String] = []
        joined.reserveCapacity(tokens.count)
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            if token == "می" || token == "نمی", index + 1 < tokens.count, tokens[index + 1].isPersianWord {
                joined.append(token + tokens[index + 1])
                index += 2
                continue
            }
            if ["ها", "های", "هایی", "هایم", "هایش"].contains(token), let last = joined.last, last.isPersianWord {
                joined[joined.count - 1] = last + token
            } else {
                joined.append(token)
            }
            index += 1
        }
        return joined
    }
}

extension Character {
    fileprivate var isClausePunctuation: Bool {
        ",.;:!?\n،؛؟".contains(self)
    }

    /// An emoji that stands for itself (not a digit, '#' or '*', which are emoji only with a keycap).
    fileprivate var isEmojiToken: Bool {
        guard let first = unicodeScalars.first else { return false }
        return first.properties.isEmojiPresentation
            || (first.properties.isEmoji && first.value > 0x238C && unicodeScalars.contains { $0.value == 0xFE0F })
            || (first.properties.isEmoji && first.value >= 0x2600 && first.value <= 0x27BF)
    }
}

extension String {
    fileprivate func trimmingApostrophes() -> String {
        guard first == "'" || last == "'" else { return self }
        return String(drop(while: { $0 == "'" }).reversed().drop(while: { $0 == "'" }).reversed())
    }

    /// Written in Arabic script (Persian).
    var isPersianWord: Bool {
        unicodeScalars.first.map { (0x0600...0x06FF).contains($0.value) } ?? false
    }
}

/// Light suffix stripping, so "deliveries" and "delivery", "crashes" and "crashing", "سفارش‌ها" and "سفارش" count as
/// one theme. Deliberately conservative: a wrong merge hides a theme, a missed one only splits it.
public enum Stemmer {
    public static func stem(_ token: String, language: CommentLanguage) -> String {
        switch language {
        case .english: english(token)
        case .persian: persian(token)
        }
    }

    private static func english(_ word: String) -> String {
        var word = word.replacingOccurrences(of: "'s", with: "")
        guard word.count > 3 else { return word }
        if word.hasSuffix("ies"), word.count > 4 {
            word = String(word.dropLast(3)) + "y"
        } else if word.hasSuffix("sses") {
            word = String(word.dropLast(2))
        } else if word.hasSuffix("s"), !word.hasSuffix("ss"), !word.hasSuffix("us"), !word.hasSuffix("is") {
            word = String(word.dropLast())
        }
        for suffix in ["ing", "ed"] where word.hasSuffix(suffix) && word.count - suffix.count >= 3 {
            word = String(word.dropLast(suffix.count))
            if let last = word.last, word.dropLast().last == last, !"lsz".contains(last) {
                word = String(word.dropLast())
            }
            break
        }
        if word.hasSuffix("e"), word.count > 4 { word = String(word.dropLast()) }
        return word
    }

    private static func persian(_ word: String) -> String {
        for suffix in ["هایی", "هایم", "هایش", "های", "ها", "ترین", "تر"] where word.hasSuffix(suffix) {
            let stem = word.dropLast(suffix.count)
            if stem.count >= 3 { return String(stem) }
        }
        return word
    }
}

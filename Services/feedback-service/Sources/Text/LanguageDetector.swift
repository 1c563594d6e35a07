/// Tells English from Persian by script: a text with more Arabic-script letters than Latin ones is Persian.
public enum LanguageDetector {
    /// The language of `text`, or `nil` when it has no letters of either script (only digits or emoji).
    public static func detect(_ text: String) -> CommentLanguage? {
        var arabicScript = 0
        var latin = 0
        for scalar in text.unicodeScalars where scalar.properties.isAlphabetic {
            switch scalar.value {
            case 0x0600...0x06FF, 0x0750...0x077F, 0xFB50...0xFDFF, 0xFE70...0xFEFF: arabicScript += 1
            case 0x0041...0x005A, 0x0061...0x007A, 0x00C0...0x024F: latin += 1
            default: continue
            }
        }
        if arabicScript == 0, latin == 0 { return nil }
        return arabicScript >= latin ? .persian : .english
    }
}

//! Just enough JSON for the page's data, written by hand (no serde_json in
//! the library).
//!
//! The data sits inside a `<script>` element, so besides JSON's own escapes
//! `<`, `>` and `&` become `\u003c`, `\u003e` and `\u0026` (a value holding
//! `</script>` or `<!--` cannot end the element), and U+2028/U+2029 are
//! escaped too (older JavaScript parsers reject them raw).

use std::fmt::Write;

/// Appends `s` as a JSON string literal.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' | '\0'..='\u{1f}' | '\u{7f}' => {
                write!(out, "\\u{:04x}", c as u32).expect("writing to a String");
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends an integer.
pub(crate) fn int(out: &mut String, n: impl std::fmt::Display) {
    write!(out, "{n}").expect("writing to a String");
}

/// Appends `[f(item), ...]`.
pub(crate) fn array<T>(out: &mut String, items: impl IntoIterator<Item = T>, mut f: impl FnMut(&mut String, T)) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        f(out, item);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        let mut out = String::new();
        string(&mut out, x);
        out
    }

    #[test]
    fn plain_text_is_quoted() {
        assert_eq!(s(""), r#""""#);
        assert_eq!(s("get('k') -> 'v'"), r#""get('k') -\u003e 'v'""#);
        assert_eq!(s("x 1 2 y"), r#""x 1 2 y""#);
    }

    #[test]
    fn json_escapes() {
        assert_eq!(s(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(s("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(s("\u{8}\u{c}\0\u{1}\u{1f}\u{7f}"), r#""\b\f\u0000\u0001\u001f\u007f""#);
    }

    #[test]
    fn html_breaking_sequences_are_escaped() {
        assert_eq!(s("</script><!--&"), r#""\u003c/script\u003e\u003c!--\u0026""#);
        assert_eq!(s("\u{2028}\u{2029}"), r#""\u2028\u2029""#);
        let out = s("</SCRIPT>");
        assert!(!out.contains('<') && !out.contains('>'), "{out}");
    }

    #[test]
    fn other_unicode_passes_through() {
        assert_eq!(s("é ⟨invalid op⟩ 😀"), "\"é ⟨invalid op⟩ 😀\"");
    }

    #[test]
    fn arrays_and_ints() {
        let mut out = String::new();
        array(&mut out, [1, -2, 3], int);
        array(&mut out, Vec::<i32>::new(), int);
        array(&mut out, ["a", "b"], string);
        assert_eq!(out, r#"[1,-2,3][]["a","b"]"#);
    }
}

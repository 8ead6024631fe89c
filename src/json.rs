//! JSON text written by hand, for the answers and rows on the hot paths (evaluate, codespace
//! creation), where `serde_json`'s generic serializer cost more than the work around it.
//! Each writer has a test holding it to byte equality with `serde_json`.

// `#[inline]` throughout: these are called once a field on the hot paths, from other modules,
// which a release build may put in other codegen units where they would not be inlined.

/// Writes `text` followed by `suffix` as one JSON string, `text` escaped as `serde_json`
/// escapes (quotes, backslashes and control characters); `suffix` is plain ASCII (`*`, say)
/// and written as it is.
#[inline]
pub fn write_str(out: &mut Vec<u8>, text: &str, suffix: &'static str) {
    out.push(b'"');
    write_str_body(out, text);
    out.extend_from_slice(suffix.as_bytes());
    out.push(b'"');
}

/// Writes `items` as a JSON array of strings.
pub fn write_str_array(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_str(out, item, "");
    }
    out.push(b']');
}

/// Writes `value` in decimal.
#[inline]
pub fn write_int(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

#[inline]
fn write_str_body(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    // Names and image references seldom need escaping. The check has no early exit, so
    // that the compiler can test many bytes at once.
    let clean = bytes
        .iter()
        .fold(true, |clean, &byte| clean & !needs_escape(byte));
    if clean {
        out.extend_from_slice(bytes);
    } else {
        write_escaped(out, bytes);
    }
}

#[inline]
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The escaping `serde_json` does: short escapes where JSON has them, `\u00XX` otherwise.
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &byte in bytes {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
                continue;
            }
            _ => {
                out.push(byte);
                continue;
            }
        };
        out.extend_from_slice(short);
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str, suffix: &'static str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, text, suffix);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        for text in [
            every_ascii.as_str(),
            "quote \" and backslash \\",
            "controls \u{0}\u{1}\u{8}\u{9}\u{a}\u{c}\u{d}\u{1f}\u{7f}",
            "unicode: café ✓ 😀 \u{2028}",
            "",
        ] {
            assert_eq!(written(text, ""), serde_json::to_string(text).unwrap());
            assert_eq!(
                written(text, "*"),
                serde_json::to_string(&format!("{text}*")).unwrap()
            );
        }
    }

    #[test]
    fn arrays_and_numbers_are_serde_json_s() {
        let items = vec!["a\"b".to_string(), String::new(), "\n".to_string()];
        let mut out = Vec::new();
        write_str_array(&mut out, &items);
        write_str_array(&mut out, &[]);
        write_int(&mut out, -42);
        write_int(&mut out, i64::MIN);
        let expected = format!(
            "{}[]-42{}",
            serde_json::to_string(&items).unwrap(),
            i64::MIN
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}

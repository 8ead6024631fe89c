//! devcontainer.json is JSON with comments (JSONC): `//` and `/* */`
//! comments and trailing commas, as VS Code and the dev container CLI accept.
//!
//! Rather than a second JSON parser, a small scanner rewrites JSONC into
//! plain JSON and serde_json parses the result. The rewrite only ever swaps
//! bytes for spaces, keeping every newline, so serde_json's line and column
//! numbers point at the original text, and its recursion limit turns deeply
//! nested input into an error instead of a stack overflow.

use serde_json::{Map, Value};

use crate::devcontainer::ConfigError;

/// Prefix of every error about the text not being JSONC.
const NOT_JSONC: &str = "devcontainer.json is not valid JSON with comments";

/// Parses the text of devcontainer.json, which must hold a JSON object.
pub(crate) fn parse_object(text: &str) -> Result<Map<String, Value>, ConfigError> {
    let plain =
        to_json(text).map_err(|e| ConfigError::devcontainer(format!("{NOT_JSONC}: {e}")))?;
    match serde_json::from_str(&plain) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ConfigError::devcontainer(
            "devcontainer.json must hold a JSON object",
        )),
        Err(e) => Err(ConfigError::devcontainer(format!("{NOT_JSONC}: {e}"))),
    }
}

/// Where the scanner is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    String,
    /// Just after a backslash in a string, so the next char cannot end it.
    StringEscape,
    LineComment,
    BlockComment,
}

/// Rewrites JSONC text into JSON of the same byte length and line layout:
/// comments and trailing commas become spaces. Anything else that is not
/// JSON is left for serde_json to report. Errors only on an unterminated
/// block comment, which would otherwise silently swallow the rest of the file.
pub(crate) fn to_json(text: &str) -> Result<String, String> {
    // serde_json rejects a byte-order mark, but editors on Windows write one.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut state = State::Code;
    // Offset in `out` of a comma that is trailing if `}` or `]` comes next.
    let mut pending_comma: Option<usize> = None;
    // Last character of JSON syntax seen outside strings and comments; a comma
    // only counts as trailing after a value, so `[,]` stays an error.
    let mut last: Option<char> = None;
    // Line number and the offset in `out` where it starts, for error messages.
    let (mut line, mut line_start) = (1usize, 0usize);
    let mut comment_start = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Code => match c {
                '/' if matches!(chars.peek(), Some('/') | Some('*')) => {
                    if chars.next() == Some('*') {
                        state = State::BlockComment;
                        comment_start = (line, out.len() - line_start + 1);
                    } else {
                        state = State::LineComment;
                    }
                    out.push_str("  ");
                }
                ',' => {
                    let after_value = !matches!(last, None | Some(',' | '[' | '{' | ':'));
                    pending_comma = after_value.then_some(out.len());
                    last = Some(c);
                    out.push(c);
                }
                '}' | ']' => {
                    if let Some(at) = pending_comma.take() {
                        out.replace_range(at..=at, " ");
                    }
                    last = Some(c);
                    out.push(c);
                }
                ' ' | '\t' | '\r' | '\n' => out.push(c),
                _ => {
                    if c == '"' {
                        state = State::String;
                    }
                    pending_comma = None;
                    last = Some(c);
                    out.push(c);
                }
            },
            State::String => {
                match c {
                    '\\' => state = State::StringEscape,
                    '"' => state = State::Code,
                    _ => {}
                }
                out.push(c);
            }
            State::StringEscape => {
                state = State::String;
                out.push(c);
            }
            State::LineComment if c == '\n' => {
                state = State::Code;
                out.push(c);
            }
            State::BlockComment if c == '*' && chars.peek() == Some(&'/') => {
                chars.next();
                state = State::Code;
                out.push_str("  ");
            }
            State::LineComment | State::BlockComment => blank(&mut out, c),
        }
        if c == '\n' {
            line += 1;
            line_start = out.len();
        }
    }
    if state == State::BlockComment {
        let (line, column) = comment_start;
        return Err(format!(
            "unterminated block comment starting at line {line} column {column}"
        ));
    }
    Ok(out)
}

/// Replaces a commented-out character with spaces, one per byte, so columns
/// (which serde_json counts in bytes) stay put; newlines are kept so that
/// line numbers do too.
fn blank(out: &mut String, c: char) {
    if c == '\n' {
        out.push('\n');
    } else {
        out.extend(std::iter::repeat_n(' ', c.len_utf8()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_become_spaces_and_keep_layout() {
        let text = "{ // note\n  \"a\": /* x\ny */ 1\n}";
        let json = to_json(text).unwrap();
        assert_eq!(json.len(), text.len());
        assert_eq!(json.lines().count(), text.lines().count());
        assert_eq!(json, "{        \n  \"a\":     \n     1\n}");
    }

    #[test]
    fn comment_markers_inside_strings_are_text() {
        let text = r#"{"a": "http://x/*y*/", "b": "q\"//", "c": "\\"} // end"#;
        let map = parse_object(text).unwrap();
        assert_eq!(map["a"], "http://x/*y*/");
        assert_eq!(map["b"], "q\"//");
        assert_eq!(map["c"], "\\");
    }

    #[test]
    fn trailing_commas_are_dropped_only_after_values() {
        let map = parse_object("{\"a\": [1, 2, /* c */ ], \"b\": {\"c\": 1,\n},\n}").unwrap();
        assert_eq!(map["a"], serde_json::json!([1, 2]));
        assert!(parse_object("{\"a\": [,]}").is_err());
        assert!(parse_object("{\"a\": [1,,]}").is_err());
        assert!(parse_object("{,}").is_err());
    }

    #[test]
    fn multibyte_characters_in_comments_keep_columns() {
        let json = to_json("{/* é 🙂 */}").unwrap();
        assert_eq!(json.len(), "{/* é 🙂 */}".len());
        assert!(serde_json::from_str::<Value>(&json).is_ok());
    }

    #[test]
    fn unterminated_block_comment_is_an_error() {
        let err = parse_object("{\n  \"a\": 1 /* open\n}").unwrap_err();
        assert_eq!(err.field, "devcontainer");
        assert_eq!(
            err.message,
            "devcontainer.json is not valid JSON with comments: \
             unterminated block comment starting at line 2 column 10"
        );
    }

    #[test]
    fn parse_errors_carry_original_line_and_column() {
        let err = parse_object("// header\n{\n  /* a */ \"a\": x\n}").unwrap_err();
        assert!(err.message.starts_with(NOT_JSONC), "{}", err.message);
        assert!(
            err.message.ends_with("expected value at line 3 column 16"),
            "{}",
            err.message
        );
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        assert!(parse_object("\u{feff}{\"image\": \"x\"}").is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let err = parse_object(&text).unwrap_err();
        assert!(err.message.contains("recursion limit"), "{}", err.message);
    }

    #[test]
    fn non_object_text_is_an_error() {
        for text in ["[]", "\"image\"", "null", "1"] {
            assert_eq!(parse_object(text).unwrap_err().field, "devcontainer");
        }
    }
}

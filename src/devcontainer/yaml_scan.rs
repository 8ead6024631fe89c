//! Lexical checks on a compose file's text before yaml_serde parses it, for
//! what yaml_serde cannot be trusted with: tags it would hide from the
//! visitor, and flow collections nested so deep that libyaml's scanner,
//! quadratic in flow nesting (yaml/yaml-serde#1), would spend seconds.
//!
//! Neither is a parser: each looks at single bytes and their neighbours and
//! errs on the side of refusing, so that what it lets through is safe.

/// The first tag indicator that yaml_serde would not show the visitor, with
/// its 1-based line.
///
/// yaml_serde hands a `!local` tag to the visitor as an enum, but resolves
/// `!!binary`, verbatim `!<...>` tags and `%TAG` handles to URIs and hands
/// their values over as if untagged; Compose would decode `!!binary` and so
/// read a different string. So those indicators are refused wherever they
/// could start a tag, that is not after a letter or digit; this also refuses
/// them in comments and quoted strings, which is rare.
pub(crate) fn tag_indicator(text: &str) -> Option<(usize, &'static str)> {
    let bytes = text.as_bytes();
    let mut line = 1;
    for (at, &byte) in bytes.iter().enumerate() {
        if is_break(bytes, at) {
            line += 1;
        }
        let after_word = at > 0 && bytes[at - 1].is_ascii_alphanumeric();
        if after_word || !matches!(byte, b'!' | b'%') {
            continue;
        }
        let rest = &bytes[at..];
        for indicator in ["!!", "!<", "%TAG"] {
            if rest.starts_with(indicator.as_bytes()) {
                return Some((line, indicator));
            }
        }
    }
    None
}

/// Whether the byte at `at` ends a line (`\n`, or `\r` not before `\n`).
fn is_break(bytes: &[u8], at: usize) -> bool {
    match bytes[at] {
        b'\n' => true,
        b'\r' => bytes.get(at + 1) != Some(&b'\n'),
        _ => false,
    }
}

/// The 1-based line at which flow collections (`[...]`, `{...}`) may nest
/// deeper than `limit`, if they may anywhere.
///
/// Every `[` and `{` counts as an opening, wherever it is. A quoted scalar
/// can only start at a quote after a blank, a line break, `[`, `{`, `,` or
/// `:` (or any non-ASCII byte), and a comment at a `#` not after a letter or
/// digit; each such possible start is followed to the end it would have. A
/// `]` or `}` inside one of those stretches may be text, so it may not take
/// the count below what it was at the latest possible start; outside them
/// it is a real closing in flow context, or a byte in block context, where
/// the real depth is 0 and the count never goes below 0. So the count is
/// never below the real depth, while brackets balanced inside a string do
/// not add up; unbalanced openings in strings and comments do, which only
/// ever refuses more.
pub(crate) fn flow_depth_over(text: &str, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut ends = Ends {
        bytes,
        double: 0,
        single: 0,
        line_end: 0,
    };
    // The last byte of the stretches that may be quoted or commented, and
    // the count at the latest possible start of one.
    let mut covered_until: Option<usize> = None;
    let mut floor = 0usize;
    let mut depth = 0usize;
    let mut line = 1;
    for (at, &byte) in bytes.iter().enumerate() {
        if is_break(bytes, at) {
            line += 1;
        }
        let prev = at.checked_sub(1).map(|p| bytes[p]);
        let may_start_scalar = prev.is_none_or(|p| {
            matches!(p, b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':') || p >= 0x80
        });
        let end = match byte {
            b'"' if may_start_scalar => Some(ends.double_quoted(at)),
            b'\'' if may_start_scalar => Some(ends.single_quoted(at)),
            b'#' if !prev.is_some_and(|p| p.is_ascii_alphanumeric()) => Some(ends.comment(at)),
            _ => None,
        };
        if let Some(end) = end {
            covered_until = Some(covered_until.map_or(end, |until| until.max(end)));
            floor = depth;
        }
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(line);
                }
            }
            b']' | b'}' if covered_until.is_some_and(|until| at <= until) => {
                depth = depth.saturating_sub(1).max(floor);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Finds where a quoted scalar or comment starting at a given byte would
/// end. Starts are asked for in increasing order, and each end is at or
/// after the previous one, so each cursor only moves forward: linear time.
struct Ends<'t> {
    bytes: &'t [u8],
    /// Where to resume looking for an unescaped `"`.
    double: usize,
    /// Where to resume looking for a run of `'` of odd length.
    single: usize,
    /// Where to resume looking for a line break.
    line_end: usize,
}

impl Ends<'_> {
    /// The closing quote of a double-quoted scalar opened at `start`: the
    /// next `"` after an even run of backslashes (or the end of the text).
    fn double_quoted(&mut self, start: usize) -> usize {
        let bytes = self.bytes;
        let mut at = self.double.max(start + 1);
        while at < bytes.len() {
            if bytes[at] == b'"' {
                let run = bytes[..at]
                    .iter()
                    .rev()
                    .take_while(|&&b| b == b'\\')
                    .count();
                if run % 2 == 0 {
                    break;
                }
            }
            at += 1;
        }
        self.double = at;
        at
    }

    /// The closing quote of a single-quoted scalar opened at `start`, where
    /// `''` stands for one quote: the last quote of the first run of quotes
    /// of odd length after the opening one.
    fn single_quoted(&mut self, start: usize) -> usize {
        let bytes = self.bytes;
        let run_end = |from: usize| {
            bytes[from..]
                .iter()
                .position(|&b| b != b'\'')
                .map_or(bytes.len(), |n| from + n)
        };
        // The opening quote's own run: the opening, then pairs, then maybe
        // the closing quote.
        let first = run_end(start);
        if (first - start) % 2 == 0 {
            return first - 1;
        }
        let mut at = self.single.max(first);
        while at < bytes.len() {
            if bytes[at] == b'\'' {
                let end = run_end(at);
                if (end - at) % 2 == 1 {
                    self.single = at;
                    return end - 1;
                }
                at = end;
            } else {
                at += 1;
            }
        }
        self.single = at;
        at
    }

    /// The end of a comment starting at `start`: the next line break.
    fn comment(&mut self, start: usize) -> usize {
        let bytes = self.bytes;
        let mut at = self.line_end.max(start);
        while at < bytes.len() && !matches!(bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        self.line_end = at;
        at
    }
}

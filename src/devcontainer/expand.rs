//! Variable substitution in one word of a Dockerfile instruction, following
//! BuildKit's shell lexer: `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`,
//! `${VAR:+word}`, `${VAR+word}`, quotes, and the escape character.
//!
//! The `word` of `${VAR:-word}` may itself hold substitutions and quotes, to
//! any depth. An explicit stack of open frames stands in for recursion so
//! that a deeply nested FROM cannot overflow the stack.

/// Why a word could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// A plain `$VAR` or `${VAR}` whose variable is undeclared or has no
    /// value. Docker would substitute an empty string; we refuse to guess.
    NoValue(String),
    /// Malformed or unsupported syntax, described for a person.
    Syntax(String),
}

/// The operator of `${VAR<op>word}`.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `:-` (`colon`) or `-`: the word when VAR is unset (or empty, with `:`).
    Default { colon: bool },
    /// `:+` (`colon`) or `+`: the word when VAR is set (and non-empty, with `:`).
    Alternate { colon: bool },
}

/// What an open frame is.
enum Kind {
    /// The word itself; never closed.
    Top,
    /// Inside double quotes.
    Quote,
    /// Inside the word of `${VAR<op>word}`; `value` is VAR's value and
    /// `chosen` whether the word, rather than the value, is the result.
    Word {
        value: Option<String>,
        op: Op,
        chosen: bool,
    },
}

/// Text gathered so far in one open frame.
struct Frame {
    kind: Kind,
    out: String,
    /// False inside the branch of `${VAR:-word}` that is not taken: it is
    /// still scanned, to find its end, but nothing in it is evaluated, so an
    /// unset variable there is not an error (as in a shell).
    live: bool,
}

/// Expands `word`. `lookup` gives a variable's value, or None if the
/// variable is undeclared or has no value.
pub(crate) fn expand<'v>(
    word: &str,
    escape: char,
    lookup: impl Fn(&str) -> Option<&'v str>,
) -> Result<String, ExpandError> {
    let mut frame = Frame {
        kind: Kind::Top,
        out: String::new(),
        live: true,
    };
    let mut parents: Vec<Frame> = Vec::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        let quoted = matches!(frame.kind, Kind::Quote);
        match c {
            '$' => match chars.peek() {
                Some('{') => {
                    chars.next();
                    let name = read_name(&mut chars);
                    let op = match (chars.next(), name.is_empty()) {
                        (Some('}'), false) => None,
                        (Some(':'), false) => match chars.next() {
                            Some('-') => Some(Op::Default { colon: true }),
                            Some('+') => Some(Op::Alternate { colon: true }),
                            _ => return Err(unsupported(&name)),
                        },
                        (Some('-'), false) => Some(Op::Default { colon: false }),
                        (Some('+'), false) => Some(Op::Alternate { colon: false }),
                        (None, _) => {
                            return Err(ExpandError::Syntax("missing '}' after '${'".into()))
                        }
                        _ => return Err(unsupported(&name)),
                    };
                    match op {
                        None => substitute(&mut frame, &name, &lookup)?,
                        Some(op) => {
                            let value = lookup(&name).map(str::to_owned);
                            let chosen = match op {
                                Op::Default { colon } => {
                                    value.as_deref().is_none_or(|v| colon && v.is_empty())
                                }
                                Op::Alternate { colon } => {
                                    value.as_deref().is_some_and(|v| !(colon && v.is_empty()))
                                }
                            };
                            let child = Frame {
                                kind: Kind::Word { value, op, chosen },
                                out: String::new(),
                                live: frame.live && chosen,
                            };
                            parents.push(std::mem::replace(&mut frame, child));
                        }
                    }
                }
                Some(&next) if next == '_' || next.is_ascii_alphabetic() => {
                    let name = read_name(&mut chars);
                    substitute(&mut frame, &name, &lookup)?;
                }
                // A `$` that starts no name is just a dollar sign.
                _ => frame.out.push('$'),
            },
            '"' if quoted => close(&mut frame, &mut parents),
            '}' if matches!(frame.kind, Kind::Word { .. }) => close(&mut frame, &mut parents),
            // Inside double quotes the escape character only escapes `"`, `$`
            // and itself; elsewhere it escapes anything.
            _ if c == escape && quoted => match chars.peek() {
                Some(&next) if next == '"' || next == '$' || next == escape => {
                    chars.next();
                    frame.out.push(next);
                }
                _ => frame.out.push(c),
            },
            _ if c == escape => frame.out.extend(chars.next()),
            '"' => {
                let child = Frame {
                    kind: Kind::Quote,
                    out: String::new(),
                    live: frame.live,
                };
                parents.push(std::mem::replace(&mut frame, child));
            }
            '\'' if !quoted => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => frame.out.push(c),
                    None => return Err(ExpandError::Syntax("unterminated single quote".into())),
                }
            },
            _ => frame.out.push(c),
        }
    }
    match frame.kind {
        Kind::Top => Ok(frame.out),
        Kind::Quote => Err(ExpandError::Syntax("unterminated double quote".into())),
        Kind::Word { .. } => Err(ExpandError::Syntax("missing '}' after '${'".into())),
    }
}

/// The error for `${NAME` followed by an operator we do not support (such as
/// `:?`, `#` or `%`), or for `${` with no name.
fn unsupported(name: &str) -> ExpandError {
    ExpandError::Syntax(format!("unsupported substitution '${{{name}...}}'"))
}

/// Reads a variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn read_name(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        let fits = c == '_' || c.is_ascii_alphabetic() || (c.is_ascii_digit() && !name.is_empty());
        if !fits {
            break;
        }
        name.push(c);
        chars.next();
    }
    name
}

/// Appends the value of a plain `$NAME` reference to `frame`.
fn substitute<'v>(
    frame: &mut Frame,
    name: &str,
    lookup: &impl Fn(&str) -> Option<&'v str>,
) -> Result<(), ExpandError> {
    if !frame.live {
        return Ok(());
    }
    let value = lookup(name).ok_or_else(|| ExpandError::NoValue(name.to_owned()))?;
    frame.out.push_str(value);
    Ok(())
}

/// Closes the open frame, appending its result to its parent.
fn close(frame: &mut Frame, parents: &mut Vec<Frame>) {
    // The top frame is never closed, so there is always a parent here.
    let Some(parent) = parents.pop() else { return };
    let child = std::mem::replace(frame, parent);
    if !frame.live {
        return;
    }
    match child.kind {
        Kind::Word { chosen: true, .. } | Kind::Quote | Kind::Top => frame.out.push_str(&child.out),
        Kind::Word {
            value,
            op: Op::Default { .. },
            chosen: false,
        } => frame.out.push_str(value.as_deref().unwrap_or("")),
        Kind::Word {
            op: Op::Alternate { .. },
            chosen: false,
            ..
        } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(word: &str) -> Result<String, ExpandError> {
        expand(word, '\\', |name| match name {
            "SET" => Some("v"),
            "EMPTY" => Some(""),
            _ => None,
        })
    }

    #[test]
    fn plain_and_braced_references() {
        assert_eq!(run("a$SET.${SET}b"), Ok("av.vb".into()));
        assert_eq!(run("${UNSET}"), Err(ExpandError::NoValue("UNSET".into())));
        assert_eq!(run("$UNSET"), Err(ExpandError::NoValue("UNSET".into())));
        assert_eq!(run("x$"), Ok("x$".into()));
        assert_eq!(run("a$-b"), Ok("a$-b".into()));
    }

    #[test]
    fn operators() {
        assert_eq!(run("${SET:-d}${UNSET:-d}${EMPTY:-d}"), Ok("vdd".into()));
        assert_eq!(run("${SET-d}${UNSET-d}[${EMPTY-d}]"), Ok("vd[]".into()));
        assert_eq!(
            run("${SET:+a}[${UNSET:+a}][${EMPTY:+a}]"),
            Ok("a[][]".into())
        );
        assert_eq!(run("${SET+a}[${UNSET+a}]${EMPTY+a}"), Ok("a[]a".into()));
    }

    #[test]
    fn nested_words_evaluate_only_the_chosen_branch() {
        assert_eq!(run("${UNSET:-${SET}-x}"), Ok("v-x".into()));
        assert_eq!(run("${SET:-$UNSET}"), Ok("v".into()));
        assert_eq!(
            run("${UNSET:-$UNSET}"),
            Err(ExpandError::NoValue("UNSET".into()))
        );
        let deep = format!("{}x{}", "${UNSET:-".repeat(100_000), "}".repeat(100_000));
        assert_eq!(run(&deep), Ok("x".into()));
    }

    #[test]
    fn escapes_and_quotes() {
        assert_eq!(run(r"\$SET"), Ok("$SET".into()));
        assert_eq!(run(r#""a $SET \$ \x"'$SET'"#), Ok(r"a v $ \x$SET".into()));
        assert_eq!(run(r#"${UNSET:-"}"}"#), Ok("}".into()));
        assert_eq!(expand("`$SET", '`', |_| Some("v")), Ok("$SET".into()));
    }

    #[test]
    fn malformed_words() {
        for word in [
            "${SET",
            "${SET:-x",
            "${SET:?x}",
            "${#SET}",
            "${}",
            "\"open",
            "'open",
        ] {
            assert!(matches!(run(word), Err(ExpandError::Syntax(_))), "{word}");
        }
    }
}

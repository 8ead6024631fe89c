//! Docker Compose interpolation in the values the reader uses, with no
//! environment: `$$` is a literal `$`, `${VAR:-default}` and `${VAR-default}`
//! give their default (which may itself hold interpolation, up to
//! [`MAX_INTERPOLATION_DEPTH`] levels), and every other reference to a
//! variable (`$VAR`, `${VAR}`, `${VAR:?msg}`, `${VAR?msg}`) is an error naming
//! it, because its value would come from an environment the service does not
//! see. `${VAR:+x}` and `${VAR+x}` are refused rather than guessed at.

/// The deepest nesting of `${VAR:-...}` defaults read.
pub const MAX_INTERPOLATION_DEPTH: usize = 16;

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InterpolateError {
    /// A variable is used with no default; `message` is the text of
    /// `${VAR:?message}`, if any.
    Unset {
        name: String,
        message: Option<String>,
    },
    /// Malformed or unsupported syntax, described for a person.
    Syntax(String),
}

impl std::fmt::Display for InterpolateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unset { name, message } => {
                let name = excerpt(name);
                write!(
                    f,
                    "variable '{name}' has no value: there is no environment, so only a default \
                     such as ${{{name}:-value}} can give it one"
                )?;
                match message {
                    Some(message) if !message.is_empty() => write!(f, " ({message})"),
                    _ => Ok(()),
                }
            }
            Self::Syntax(message) => f.write_str(message),
        }
    }
}

/// Interpolates `text`.
pub(crate) fn interpolate(text: &str) -> Result<String, InterpolateError> {
    let mut scanner = Scanner { text, at: 0 };
    let out = scanner.template(0)?;
    match scanner.peek() {
        None => Ok(out),
        // `template(0)` only stops early at a `}` closing a default, and at
        // depth 0 there is none, so this cannot happen; refuse it anyway.
        Some(_) => Err(InterpolateError::Syntax(format!(
            "unexpected '}}' in '{}'",
            excerpt(text)
        ))),
    }
}

/// A position in the text being interpolated.
struct Scanner<'t> {
    text: &'t str,
    /// Byte offset of the next char.
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    /// Whether the text continues with `s`; if so, skips it.
    fn eat(&mut self, s: &str) -> bool {
        let found = self.text[self.at..].starts_with(s);
        if found {
            self.at += s.len();
        }
        found
    }

    /// Reads a variable name: `[A-Za-z_][A-Za-z0-9_]*`, or "" if none.
    fn name(&mut self) -> String {
        let start = self.at;
        while let Some(c) = self.peek() {
            let fits =
                c == '_' || c.is_ascii_alphabetic() || (c.is_ascii_digit() && self.at > start);
            if !fits {
                break;
            }
            self.at += 1;
        }
        self.text[start..self.at].to_owned()
    }

    /// Reads text up to the end or, when `depth > 0` (inside a default), up
    /// to the `}` closing it, which is left unread.
    fn template(&mut self, depth: usize) -> Result<String, InterpolateError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            match c {
                '}' if depth > 0 => return Ok(out),
                '$' => {
                    self.at += 1;
                    self.reference(depth, &mut out)?;
                }
                _ => {
                    out.push(c);
                    self.at += c.len_utf8();
                }
            }
        }
        if depth > 0 {
            return Err(InterpolateError::Syntax(format!(
                "missing '}}' in '{}'",
                excerpt(self.text)
            )));
        }
        Ok(out)
    }

    /// Reads what follows a `$`, appending its value to `out`.
    fn reference(&mut self, depth: usize, out: &mut String) -> Result<(), InterpolateError> {
        if self.eat("$") {
            out.push('$');
            return Ok(());
        }
        let braced = self.eat("{");
        let name = self.name();
        if name.is_empty() {
            return Err(InterpolateError::Syntax(format!(
                "invalid interpolation in '{}': '$' must start '$NAME', '${{NAME...}}' or '$$' \
                 (a literal '$')",
                excerpt(self.text)
            )));
        }
        if !braced {
            return Err(unset(name, None));
        }
        if self.eat("}") {
            return Err(unset(name, None));
        }
        if self.eat(":-") || self.eat("-") {
            if depth + 1 > MAX_INTERPOLATION_DEPTH {
                return Err(InterpolateError::Syntax(format!(
                    "interpolation in '{}' nests deeper than the bound of \
                     {MAX_INTERPOLATION_DEPTH} defaults",
                    excerpt(self.text)
                )));
            }
            // With no environment, the variable is unset: the default is
            // the value, whether or not the form also covers empty values.
            let default = self.template(depth + 1)?;
            self.bump();
            out.push_str(&default);
            return Ok(());
        }
        if self.eat(":?") || self.eat("?") {
            let rest = &self.text[self.at..];
            let message = rest.split('}').next().unwrap_or_default();
            return Err(unset(name, Some(excerpt(message))));
        }
        Err(InterpolateError::Syntax(format!(
            "unsupported interpolation '${{{name}...' in '{}': only ${{{name}}}, \
             ${{{name}:-default}} and ${{{name}-default}} are read",
            excerpt(self.text)
        )))
    }
}

fn unset(name: String, message: Option<String>) -> InterpolateError {
    InterpolateError::Unset { name, message }
}

/// At most the first 80 chars of `text`, so that a huge value does not make
/// a huge message.
pub(crate) fn excerpt(text: &str) -> String {
    const SHOWN: usize = 80;
    match text.char_indices().nth(SHOWN) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}...", &text[..end]),
    }
}

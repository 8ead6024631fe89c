//! Splits Dockerfile text into instructions the way BuildKit's parser does:
//! parser directives at the top, line continuations, comment and blank lines,
//! and here-documents.
//!
//! Here-documents matter for policy: the body of `RUN <<EOF` is not part of
//! the Dockerfile's syntax, so a body line reading `FROM allowed-image` must
//! not be taken for a stage, or it would hide the real final stage.

use crate::devcontainer::ConfigError;

/// One logical instruction.
#[derive(Debug)]
pub(crate) struct Instruction {
    /// 1-based physical line the instruction starts on.
    pub line: usize,
    /// The instruction keyword, upper-cased (instructions are
    /// case-insensitive).
    pub keyword: String,
    /// Everything after the keyword, continuation lines joined.
    pub args: String,
}

/// A Dockerfile split into instructions.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The escape character: `\`, or the one a `# escape=` directive sets.
    pub escape: char,
    /// The instructions in order.
    pub instructions: Vec<Instruction>,
}

/// Splits `text` into instructions.
pub(crate) fn parse(text: &str) -> Result<Parsed, ConfigError> {
    // BuildKit strips a byte-order mark from the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let escape = directives(&lines)?;
    let mut instructions = Vec::new();
    let mut next = 0;
    while let Some(first) = lines.get(next) {
        let start = next;
        next += 1;
        // Directive lines are comments too, so they are skipped here.
        let first = first.trim_start();
        if first.is_empty() || first.starts_with('#') {
            continue;
        }
        let (part, mut continues) = continuation(first, escape);
        let mut logical = part.to_owned();
        while continues {
            let Some(line) = lines.get(next) else { break };
            next += 1;
            // Comment and blank lines inside a continuation are dropped
            // without ending it, as BuildKit does.
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            // Continuation lines keep their leading whitespace and are joined
            // with nothing in between, exactly as BuildKit joins them.
            let (part, more) = continuation(line, escape);
            logical.push_str(part);
            continues = more;
        }
        let logical = logical.trim();
        let (keyword, args) = logical
            .split_once(char::is_whitespace)
            .unwrap_or((logical, ""));
        let keyword = keyword.to_ascii_uppercase();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for doc in heredocs(args, escape) {
                next = skip_heredoc(&lines, next, &doc).ok_or_else(|| {
                    ConfigError::at_line(
                        start + 1,
                        format!("unterminated here-document '{}'", doc.name),
                    )
                })?;
            }
        }
        let args = args.trim_start().to_owned();
        instructions.push(Instruction {
            line: start + 1,
            keyword,
            args,
        });
    }
    Ok(Parsed {
        escape,
        instructions,
    })
}

/// Reads the parser directives at the top of the file and returns the escape
/// character. Like BuildKit, it stops at the first line that is not a known
/// directive (a blank line, any other comment, an instruction), so a
/// directive further down is an ordinary comment.
fn directives(lines: &[&str]) -> Result<char, ConfigError> {
    let mut escape = '\\';
    let mut seen: Vec<String> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some((name, value)) = directive(line.trim_start()) else {
            break;
        };
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            break;
        }
        if seen.contains(&name) {
            return Err(ConfigError::at_line(
                index + 1,
                format!("only one '{name}' parser directive can be used"),
            ));
        }
        if name == "escape" {
            escape = match value {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(ConfigError::at_line(
                        index + 1,
                        format!("invalid escape character '{value}': it must be \\ or `"),
                    ))
                }
            };
        }
        seen.push(name);
    }
    Ok(escape)
}

/// Splits `# name = value` into name and value, or None if the line does not
/// have that shape.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let (name, rest) = rest.split_at(end);
    let value = rest.trim_start().strip_prefix('=')?.trim();
    let named = name.starts_with(|c: char| c.is_ascii_alphabetic());
    (named && !value.is_empty()).then_some((name, value))
}

/// Removes a trailing escape character (which may be followed by spaces or
/// tabs) and says whether there was one, i.e. whether the next line continues
/// this one.
fn continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    match trimmed.strip_suffix(escape) {
        Some(part) => (part, true),
        None => (line, false),
    }
}

/// A here-document an instruction opens.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Heredoc {
    /// The word that ends it, with quotes removed.
    pub name: String,
    /// `<<-`: leading tabs are stripped before comparing with the name.
    pub chomp: bool,
}

/// The here-documents `args` opens, in order: each word that is `<<NAME` or
/// `<<-NAME` (NAME possibly quoted), as BuildKit recognises them.
pub(crate) fn heredocs(args: &str, escape: char) -> Vec<Heredoc> {
    let mut docs = Vec::new();
    for word in shell_words(args, escape) {
        let Some(rest) = word.strip_prefix("<<") else {
            continue;
        };
        let (chomp, rest) = match rest.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        // `<<<` is a here-string, not a here-document.
        if rest.contains('<') {
            continue;
        }
        let name = unquote(rest, escape);
        if !name.is_empty() {
            docs.push(Heredoc { name, chomp });
        }
    }
    docs
}

/// Skips the body of `doc`, which starts at line index `from`, and returns
/// the index of the line after its terminator, or None if it never ends.
fn skip_heredoc(lines: &[&str], from: usize, doc: &Heredoc) -> Option<usize> {
    let body = lines.get(from..)?;
    let end = body.iter().position(|line| {
        let line = if doc.chomp {
            line.trim_start_matches('\t')
        } else {
            line
        };
        *line == doc.name
    })?;
    Some(from + end + 1)
}

/// Splits `text` into shell words at whitespace outside quotes, keeping
/// quotes and escapes in the words.
pub(crate) fn shell_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if quote.is_none() && c.is_whitespace() {
            words.extend(word.take());
            continue;
        }
        let current = word.get_or_insert_with(String::new);
        current.push(c);
        match quote {
            Some(q) if c == q => quote = None,
            // Single quotes take everything literally, escapes included.
            Some('\'') => {}
            _ if c == escape => current.extend(chars.next()),
            None if c == '\'' || c == '"' => quote = Some(c),
            _ => {}
        }
    }
    words.extend(word);
    words
}

/// Removes quotes and escapes from a shell word.
fn unquote(word: &str, escape: char) -> String {
    let mut out = String::with_capacity(word.len());
    let mut quote: Option<char> = None;
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('\'') => out.push(c),
            _ if c == escape => out.extend(chars.next()),
            None if c == '\'' || c == '"' => quote = Some(c),
            _ => out.push(c),
        }
    }
    out
}

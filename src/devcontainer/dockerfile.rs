//! Finds the image a Dockerfile build starts from: the FROM of the final
//! stage (or of the target stage), with global ARGs substituted, followed
//! through stage names to an image that is not a stage.

use std::collections::HashMap;

use crate::devcontainer::expand::{expand, ExpandError};
use crate::devcontainer::lines::{self, shell_words, Instruction};
use crate::devcontainer::ConfigError;

/// One build stage.
struct Stage {
    /// Line of its FROM.
    line: usize,
    /// The image its FROM names, after substitution, as written.
    image: String,
    /// The earlier stage `image` names, if it names one.
    parent: Option<usize>,
}

/// Global ARGs (those before the first FROM): name to value, None when the
/// ARG has no value.
type Globals = HashMap<String, Option<String>>;

/// The base image of the Dockerfile `text`, built with `build_args` and, if
/// given, stopping at stage `target` instead of the last stage.
pub(crate) fn base_image(
    text: &str,
    build_args: &HashMap<String, String>,
    target: Option<&str>,
) -> Result<String, ConfigError> {
    base_image_with(text, build_args, target, |target| {
        ConfigError::devcontainer(format!(
            "devcontainer.json \"build.target\" names stage '{target}', which the Dockerfile does not define"
        ))
    })
}

/// [`base_image`], with `unknown_target` making the error for a `target`
/// the Dockerfile does not define, since where the target was written
/// (devcontainer.json or a compose file) is the caller's to say.
pub(crate) fn base_image_with(
    text: &str,
    build_args: &HashMap<String, String>,
    target: Option<&str>,
    unknown_target: impl FnOnce(&str) -> ConfigError,
) -> Result<String, ConfigError> {
    let parsed = lines::parse(text)?;
    let escape = parsed.escape;
    let mut globals = Globals::new();
    let mut stages: Vec<Stage> = Vec::new();
    // Stage names, lower-cased (they are case-insensitive), to stage index.
    let mut names: HashMap<String, usize> = HashMap::new();
    for instruction in &parsed.instructions {
        match instruction.keyword.as_str() {
            // ARGs inside a stage are scoped to it and cannot reach a FROM.
            "ARG" if stages.is_empty() => declare(instruction, escape, build_args, &mut globals)?,
            "FROM" => {
                let (image, name) = parse_from(instruction, escape, &globals)?;
                // Only stages defined so far are in `names`, so a stage can
                // only ever point back, which makes the walk below finite.
                let parent = names.get(&image.to_ascii_lowercase()).copied();
                if let Some(name) = name {
                    if names
                        .insert(name.to_ascii_lowercase(), stages.len())
                        .is_some()
                    {
                        let message = format!("duplicate stage name '{name}'");
                        return Err(ConfigError::at_line(instruction.line, message));
                    }
                }
                stages.push(Stage {
                    line: instruction.line,
                    image,
                    parent,
                });
            }
            _ => {}
        }
    }
    let Some(last) = stages.len().checked_sub(1) else {
        return Err(ConfigError::dockerfile(
            "the Dockerfile has no FROM instruction",
        ));
    };
    // A FROM naming itself or a later stage would make Docker pull an image
    // of that name instead; a policy cannot tell what that is, so refuse it.
    for stage in stages.iter().filter(|stage| stage.parent.is_none()) {
        if names.contains_key(&stage.image.to_ascii_lowercase()) {
            let message = format!(
                "stage '{}' refers to itself or to a later stage",
                stage.image
            );
            return Err(ConfigError::at_line(stage.line, message));
        }
    }
    let start = match target {
        None => last,
        Some(target) => match names.get(&target.to_ascii_lowercase()) {
            Some(&stage) => stage,
            None => return Err(unknown_target(target)),
        },
    };
    walk(&stages, start)
}

/// Follows stage references from stage `start` to an image that is not a
/// stage. Parents always come earlier, so this ends; the visited set makes
/// sure of it even so.
fn walk(stages: &[Stage], start: usize) -> Result<String, ConfigError> {
    let mut visited = vec![false; stages.len()];
    let mut at = start;
    loop {
        let (Some(stage), Some(seen)) = (stages.get(at), visited.get_mut(at)) else {
            return Err(ConfigError::dockerfile(
                "internal error: stage reference out of range",
            ));
        };
        if std::mem::replace(seen, true) {
            let message = format!("stage '{}' is part of a cycle", stage.image);
            return Err(ConfigError::at_line(stage.line, message));
        }
        match stage.parent {
            Some(parent) => at = parent,
            None => return Ok(stage.image.clone()),
        }
    }
}

/// Records the global ARGs one `ARG` instruction declares: `ARG a`,
/// `ARG a=1 b="two"`. A build arg overrides a declared ARG's default;
/// a default may use earlier global ARGs.
fn declare(
    instruction: &Instruction,
    escape: char,
    build_args: &HashMap<String, String>,
    globals: &mut Globals,
) -> Result<(), ConfigError> {
    let words = shell_words(&instruction.args, escape);
    if words.is_empty() {
        return Err(ConfigError::at_line(instruction.line, "ARG needs a name"));
    }
    for word in words {
        let (name, default) = match word.split_once('=') {
            Some((name, default)) => (name, Some(default)),
            None => (word.as_str(), None),
        };
        if name.is_empty() {
            return Err(ConfigError::at_line(
                instruction.line,
                format!("ARG '{word}' has no name"),
            ));
        }
        let value = match (build_args.get(name), default) {
            (Some(value), _) => Some(value.clone()),
            (None, None) => None,
            (None, Some(default)) => match expand(default, escape, |n| lookup(globals, n)) {
                Ok(value) => Some(value),
                // Docker would use an empty string for the unset variable;
                // leaving this ARG without a value instead means a FROM that
                // uses it is refused rather than resolved to a guess.
                Err(ExpandError::NoValue(_)) => None,
                Err(ExpandError::Syntax(message)) => {
                    return Err(ConfigError::at_line(
                        instruction.line,
                        format!("{message} in ARG '{name}'"),
                    ));
                }
            },
        };
        globals.insert(name.to_owned(), value);
    }
    Ok(())
}

/// The value of a global ARG, if it is declared and has one.
fn lookup<'g>(globals: &'g Globals, name: &str) -> Option<&'g str> {
    globals.get(name).and_then(|value| value.as_deref())
}

/// Reads `FROM [--flag...] <image> [AS <name>]`, returning the image with
/// ARGs substituted and the stage name, if any.
fn parse_from<'i>(
    instruction: &'i Instruction,
    escape: char,
    globals: &Globals,
) -> Result<(String, Option<&'i str>), ConfigError> {
    let line = instruction.line;
    // Flags such as `--platform=$BUILDPLATFORM` choose a platform, not an
    // image, so they are skipped whole.
    let mut words = instruction
        .args
        .split_whitespace()
        .skip_while(|word| word.starts_with("--"));
    let Some(raw) = words.next() else {
        return Err(ConfigError::at_line(line, "FROM names no image"));
    };
    let name = match (words.next(), words.next(), words.next()) {
        (None, _, _) => None,
        (Some(word), Some(name), None) if word.eq_ignore_ascii_case("as") => Some(name),
        _ => {
            let message = format!(
                "FROM must be 'FROM [--platform=...] <image> [AS <name>]', not 'FROM {}'",
                instruction.args
            );
            return Err(ConfigError::at_line(line, message));
        }
    };
    if let Some(name) = name.filter(|name| !valid_stage_name(name)) {
        return Err(ConfigError::at_line(
            line,
            format!("invalid stage name '{name}'"),
        ));
    }
    let image = expand(raw, escape, |n| lookup(globals, n)).map_err(|e| match e {
        ExpandError::NoValue(var) => {
            ConfigError::at_line(line, format!("ARG '{var}' used in FROM has no value"))
        }
        ExpandError::Syntax(message) => ConfigError::at_line(line, format!("{message} in FROM")),
    })?;
    if image.is_empty() {
        return Err(ConfigError::at_line(
            line,
            format!("FROM image '{raw}' is empty once ARGs are substituted"),
        ));
    }
    Ok((image, name))
}

/// Whether `name` is a stage name BuildKit accepts: a letter, then letters,
/// digits, `-`, `_` or `.`.
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

//! Tests of Dockerfile syntax: line continuations, comments, line endings,
//! parser directives, case and here-documents.

use serde_json::json;

use crate::devcontainer::dockerfile_tests::{assert_error, resolve, resolve_with};

#[test]
fn line_continuations_join_without_a_separator() {
    assert_eq!(
        resolve("FROM \\\n  ubuntu:22.04 \\\n  AS base\nFROM base"),
        Ok("ubuntu:22.04".into())
    );
    assert_eq!(resolve("FROM ubuntu\\\n:22.04"), Ok("ubuntu:22.04".into()));
    // Spaces after the escape character still continue the line.
    assert_eq!(resolve("FROM \\  \t\nalpine"), Ok("alpine".into()));
}

#[test]
fn comments_and_blank_lines_inside_continuations_are_skipped() {
    let text = "ARG A=1 \\\n# a comment\n\n    B=2\nFROM \\\n  # FROM evil\n  img:$A$B";
    assert_eq!(resolve(text), Ok("img:12".into()));
}

#[test]
fn errors_name_the_line_the_instruction_starts_on() {
    let text = "# comment\n\nFROM alpine\nRUN a \\\n  b \\\n  c\nFROM \\\n  $NOPE";
    assert_error(
        resolve(text),
        "Dockerfile line 7: ARG 'NOPE' used in FROM has no value",
    );
}

#[test]
fn crlf_line_endings() {
    let text = "ARG V=3.20\r\nFROM alpine:$V AS base\r\nRUN echo \\\r\n  hi\r\nFROM base\r\n";
    assert_eq!(resolve(text), Ok("alpine:3.20".into()));
    assert_error(
        resolve("RUN x\r\nFROM $X\r\n"),
        "Dockerfile line 2: ARG 'X' used in FROM has no value",
    );
}

#[test]
fn instructions_are_case_insensitive() {
    assert_eq!(
        resolve("arg V=1\nfrom img:$V as Base\nFrOm base"),
        Ok("img:1".into())
    );
}

#[test]
fn escape_directive_sets_the_escape_character() {
    let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS base\nRUN dir c:\\\nFROM base";
    assert_eq!(
        resolve(text),
        Ok("mcr.microsoft.com/windows/servercore:ltsc2022".into())
    );
    // With a backtick escape, a backslash is an ordinary character.
    assert_eq!(resolve("# escape=`\nFROM a\\b"), Ok("a\\b".into()));
    assert_eq!(
        resolve("# escape=`\nARG T=1\nFROM img:`$T"),
        Ok("img:$T".into())
    );
    // Directives may be spaced out and mixed case, and follow `# syntax=`.
    let text = "#  syntax = docker/dockerfile:1\n # ESCAPE = `\nFROM a `\n  AS b\nFROM b";
    assert_eq!(resolve(text), Ok("a".into()));
}

#[test]
fn directives_only_count_at_the_top() {
    // After a blank line, an instruction or another comment, `# escape=` is a
    // comment, so the backslash keeps continuing lines.
    for prefix in ["\n", "FROM x\n", "# hello\n"] {
        let text = format!("{prefix}# escape=`\nFROM a \\\n AS b\nFROM b");
        assert_eq!(resolve(&text), Ok("a".into()), "{prefix:?}");
    }
}

#[test]
fn bad_directives_are_errors() {
    assert_error(
        resolve("# escape=x\nFROM a"),
        "Dockerfile line 1: invalid escape character 'x': it must be \\ or `",
    );
    assert_error(
        resolve("# escape=`\n# escape=\\\nFROM a"),
        "Dockerfile line 2: only one 'escape' parser directive can be used",
    );
}

#[test]
fn byte_order_mark_is_ignored() {
    assert_eq!(
        resolve("\u{feff}# escape=`\nFROM a `\n AS b\nFROM b"),
        Ok("a".into())
    );
}

#[test]
fn heredoc_bodies_are_not_instructions() {
    let text = "FROM evil:latest\nRUN <<EOF\nFROM good:1\nEOF\nCOPY <<-'END' <<\"TWO\" /x\n\tFROM good:2\n\tEND\nFROM good:3\nTWO\n";
    assert_eq!(resolve(text), Ok("evil:latest".into()));
    // Only RUN, COPY and ADD open here-documents; `<<<` is a here-string.
    assert_eq!(
        resolve("FROM a\nLABEL x=<<EOF\nFROM b\nRUN cat <<<EOF\nFROM c"),
        Ok("c".into())
    );
    assert_error(
        resolve("FROM a\nRUN <<EOF\nFROM b\n"),
        "Dockerfile line 2: unterminated here-document 'EOF'",
    );
}

#[test]
fn build_args_and_continuations_together() {
    let text = "ARG REGISTRY=docker.io \\\n    IMAGE=library/rust\nFROM ${REGISTRY}/${IMAGE}:${TAG:-latest}";
    let args = json!({"args": {"REGISTRY": "ghcr.io"}});
    assert_eq!(
        resolve_with(text, args),
        Ok("ghcr.io/library/rust:latest".into())
    );
}

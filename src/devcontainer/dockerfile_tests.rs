//! Tests of Dockerfile stages, ARGs and FROM resolution through `read_config`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::devcontainer::{read_config, ConfigError, ConfiguredImage, Sources};

/// Resolves `dockerfile` as the configuration's Dockerfile, with `build`
/// merged into the configuration's "build" section.
pub(crate) fn resolve_with(dockerfile: &str, build: Value) -> Result<String, ConfigError> {
    let mut section = json!({"dockerfile": "Dockerfile"});
    if let (Some(section), Value::Object(extra)) = (section.as_object_mut(), build) {
        section.extend(extra);
    }
    let config = json!({ "build": section });
    let sources = Sources {
        devcontainer: Some(&config),
        dockerfile: Some(dockerfile),
        compose_files: None,
    };
    match read_config(sources)? {
        ConfiguredImage::Dockerfile { base_image } => Ok(base_image),
        other => panic!("expected a Dockerfile result, got {other:?}"),
    }
}

/// Resolves `dockerfile` with no build args or target.
pub(crate) fn resolve(dockerfile: &str) -> Result<String, ConfigError> {
    resolve_with(dockerfile, json!({}))
}

/// Asserts resolving gives a Dockerfile error with exactly `message`.
pub(crate) fn assert_error(result: Result<String, ConfigError>, message: &str) {
    let err = result.unwrap_err();
    assert_eq!((err.field, err.message.as_str()), ("dockerfile", message));
}

#[test]
fn single_stage() {
    assert_eq!(resolve("FROM ubuntu:22.04"), Ok("ubuntu:22.04".into()));
    assert_eq!(resolve("FROM scratch\nCOPY x /"), Ok("scratch".into()));
}

#[test]
fn final_stage_followed_through_stage_names() {
    let text =
        "FROM rust:1.80 AS base\nRUN cargo --version\nFROM base AS dev\nRUN true\nFROM dev\n";
    assert_eq!(resolve(text), Ok("rust:1.80".into()));
    // The final stage's own image wins over earlier unrelated stages.
    assert_eq!(
        resolve("FROM golang AS build\nFROM alpine:3\nCOPY --from=build /x /x"),
        Ok("alpine:3".into())
    );
    // Stage names compare case-insensitively, and so does AS.
    assert_eq!(
        resolve("FROM node:20 as Base\nFROM BASE"),
        Ok("node:20".into())
    );
}

#[test]
fn platform_and_other_flags_are_skipped() {
    let text =
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=linux/amd64 build";
    assert_eq!(resolve(text), Ok("golang:1.22".into()));
}

#[test]
fn global_arg_defaults() {
    let text = "ARG VARIANT=bookworm\nARG IMAGE=\"mcr.microsoft.com/devcontainers/base\"\nFROM ${IMAGE}:${VARIANT}";
    assert_eq!(
        resolve(text),
        Ok("mcr.microsoft.com/devcontainers/base:bookworm".into())
    );
    assert_eq!(
        resolve("ARG a=alpine b='3.20'\nFROM $a:$b"),
        Ok("alpine:3.20".into())
    );
    // A default may use earlier global ARGs.
    assert_eq!(
        resolve("ARG V=3\nARG IMG=alpine:${V}\nFROM $IMG"),
        Ok("alpine:3".into())
    );
}

#[test]
fn substitution_forms() {
    let text = "ARG SET=s\nARG EMPTY=\nARG NODEF\nFROM ${SET:-a}${UNDECLARED:-b}${NODEF-c}${EMPTY:-d}${SET:+e}${EMPTY+f}${NODEF:+g}";
    assert_eq!(resolve(text), Ok("sbcdef".into()));
    assert_eq!(resolve("ARG T=1\nFROM img:\\$T"), Ok("img:$T".into()));
}

#[test]
fn build_args_override_declared_args() {
    let text = "ARG VARIANT=18\nARG TAG\nFROM node:${VARIANT}${TAG}";
    let args = json!({"args": {"VARIANT": "20", "TAG": "-slim"}});
    assert_eq!(resolve_with(text, args), Ok("node:20-slim".into()));
}

#[test]
fn undeclared_build_args_are_ignored() {
    let args = json!({"args": {"IMAGE": "evil", "OTHER": "x"}});
    assert_eq!(
        resolve_with("ARG OTHER=y\nFROM ubuntu${IMAGE:-}", args.clone()),
        Ok("ubuntu".into())
    );
    assert_error(
        resolve_with("FROM $IMAGE", args),
        "Dockerfile line 1: ARG 'IMAGE' used in FROM has no value",
    );
}

#[test]
fn unresolved_args_are_errors() {
    assert_error(
        resolve("ARG BASE\nFROM $BASE"),
        "Dockerfile line 2: ARG 'BASE' used in FROM has no value",
    );
    assert_error(
        resolve("\n\nFROM ubuntu:${TAG}"),
        "Dockerfile line 3: ARG 'TAG' used in FROM has no value",
    );
    // A default that uses an ARG without a value has no value either.
    assert_error(
        resolve("ARG A\nARG B=x$A\nFROM $B"),
        "Dockerfile line 3: ARG 'B' used in FROM has no value",
    );
    assert_error(
        resolve("ARG E=\nFROM $E"),
        "Dockerfile line 2: FROM image '$E' is empty once ARGs are substituted",
    );
    assert_error(
        resolve("FROM a${B:?x}"),
        "Dockerfile line 1: unsupported substitution '${B...}' in FROM",
    );
}

#[test]
fn args_inside_a_stage_do_not_reach_from() {
    let text = "FROM alpine AS one\nARG NEXT=debian\nFROM $NEXT";
    assert_error(
        resolve(text),
        "Dockerfile line 3: ARG 'NEXT' used in FROM has no value",
    );
    let args = json!({"args": {"NEXT": "debian"}});
    assert_error(
        resolve_with(text, args),
        "Dockerfile line 3: ARG 'NEXT' used in FROM has no value",
    );
    // A global ARG is still global after a stage redeclares it.
    assert_eq!(
        resolve("ARG V=1\nFROM a:$V\nARG V=2\nFROM b:$V"),
        Ok("b:1".into())
    );
}

#[test]
fn build_target_selects_a_stage() {
    let text = "FROM rust:1 AS base\nFROM base AS dev\nFROM gcr.io/distroless/cc AS release";
    assert_eq!(
        resolve_with(text, json!({"target": "dev"})),
        Ok("rust:1".into())
    );
    assert_eq!(
        resolve_with(text, json!({"target": "RELEASE"})),
        Ok("gcr.io/distroless/cc".into())
    );
    assert_eq!(
        resolve_with(text, json!({"target": ""})),
        Ok("gcr.io/distroless/cc".into())
    );
    let err = resolve_with(text, json!({"target": "test"})).unwrap_err();
    assert_eq!(err.field, "devcontainer");
    assert!(err.message.contains("'test'"), "{}", err.message);
}

#[test]
fn self_and_forward_references_are_errors() {
    assert_error(
        resolve("FROM dev AS dev"),
        "Dockerfile line 1: stage 'dev' refers to itself or to a later stage",
    );
    let forward = "FROM alpine\nFROM later AS first\nFROM ubuntu AS later";
    assert_error(
        resolve(forward),
        "Dockerfile line 2: stage 'later' refers to itself or to a later stage",
    );
    let cycle = "FROM b AS a\nFROM a AS b";
    assert_error(
        resolve(cycle),
        "Dockerfile line 1: stage 'b' refers to itself or to a later stage",
    );
}

#[test]
fn malformed_from_and_stages() {
    assert_error(
        resolve("# only a comment\nRUN x"),
        "the Dockerfile has no FROM instruction",
    );
    assert_error(resolve(""), "the Dockerfile has no FROM instruction");
    assert_error(
        resolve("FROM a\nFROM\n"),
        "Dockerfile line 2: FROM names no image",
    );
    assert_error(
        resolve("FROM --platform=linux/amd64"),
        "Dockerfile line 1: FROM names no image",
    );
    for bad in ["FROM a b", "FROM a AS", "FROM a AS b c", "FROM a FROM b"] {
        let err = resolve(bad).unwrap_err();
        assert!(
            err.message.starts_with("Dockerfile line 1: FROM must be"),
            "{bad}: {}",
            err.message
        );
    }
    assert_error(
        resolve("FROM a AS x\nFROM b AS X"),
        "Dockerfile line 2: duplicate stage name 'X'",
    );
    assert_error(
        resolve("FROM a AS 1st"),
        "Dockerfile line 1: invalid stage name '1st'",
    );
    assert_error(
        resolve("FROM \"a"),
        "Dockerfile line 1: unterminated double quote in FROM",
    );
}

#[test]
fn five_thousand_stages_resolve_quickly() {
    let mut text = String::from("ARG BASE=debian:12\nFROM ${BASE} AS s0\n");
    for i in 1..5_000 {
        text.push_str(&format!("FROM s{} AS s{i}\nRUN echo {i}\n", i - 1));
    }
    let started = Instant::now();
    assert_eq!(resolve(&text), Ok("debian:12".into()));
    let target = json!({"target": "s2500"});
    assert_eq!(resolve_with(&text, target), Ok("debian:12".into()));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

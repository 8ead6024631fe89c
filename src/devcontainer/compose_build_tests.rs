//! Tests of the values a Compose service's `image` and `build` are read
//! from: interpolation, the context string form, `args` in both forms,
//! `target` and `dockerfile_inline`.

use crate::devcontainer::compose_tests::{built, image, read_service};

#[test]
fn interpolation_with_defaults_nesting_and_dollars() {
    let text = r#"
services:
  a:
    image: "node:${NODE_VERSION:-20}-${VARIANT-bookworm}"
  b:
    image: ${REGISTRY:-${MIRROR:-ghcr.io}/octo}/app:${TAG:-1}
  c:
    image: "a$$b"
  d:
    image: ${EMPTY:-}alpine
"#;
    assert_eq!(
        read_service("a", text, None),
        Ok(image("a", "node:20-bookworm"))
    );
    assert_eq!(
        read_service("b", text, None),
        Ok(image("b", "ghcr.io/octo/app:1"))
    );
    assert_eq!(read_service("c", text, None), Ok(image("c", "a$b")));
    assert_eq!(read_service("d", text, None), Ok(image("d", "alpine")));
    // extends fields are interpolated too.
    let text = "services:\n  base:\n    image: x:1\n  app:\n    extends: ${BASE:-base}\n";
    assert_eq!(read_service("app", text, None), Ok(image("app", "x:1")));
}

#[test]
fn build_as_a_context_string() {
    let text = "services:\n  app:\n    build: ./app\n";
    assert_eq!(
        read_service("app", text, Some("FROM ruby:3")),
        Ok(built("app", "ruby:3"))
    );
    let err = read_service("app", text, None).unwrap_err();
    assert!(
        err.message.contains("Dockerfile 'app/Dockerfile'"),
        "{}",
        err.message
    );
}

#[test]
fn build_args_map_and_list_feed_from() {
    let dockerfile = "ARG VARIANT=3.11\nARG OS=bookworm\nFROM python:${VARIANT}-${OS}\n";
    let map = "services:\n  app:\n    build:\n      context: .\n      args:\n        VARIANT: \"3.12\"\n        OS: ${OS:-slim}\n";
    assert_eq!(
        read_service("app", map, Some(dockerfile)),
        Ok(built("app", "python:3.12-slim"))
    );
    // Numbers are written as strings; a null value is left out.
    let numbers = "services:\n  app:\n    build:\n      context: .\n      args:\n        VARIANT: 3.13\n        OS:\n";
    assert_eq!(
        read_service("app", numbers, Some(dockerfile)),
        Ok(built("app", "python:3.13-bookworm"))
    );
    let ints = "services:\n  app:\n    build:\n      context: .\n      args: {VARIANT: 3}\n";
    assert_eq!(
        read_service("app", ints, Some(dockerfile)),
        Ok(built("app", "python:3-bookworm"))
    );
    // A list: a bare name has no value here and is left out.
    let list = "services:\n  app:\n    build:\n      context: .\n      args:\n        - VARIANT=3.10\n        - OS\n        - \"X=${X:-a=b}\"\n";
    assert_eq!(
        read_service("app", list, Some(dockerfile)),
        Ok(built("app", "python:3.10-bookworm"))
    );
}

#[test]
fn build_target() {
    let dockerfile =
        "FROM golang:1.22 AS build\nFROM build AS dev\nFROM gcr.io/distroless/static\n";
    let text = "services:\n  app:\n    build:\n      context: .\n      target: ${TARGET:-dev}\n";
    assert_eq!(
        read_service("app", text, Some(dockerfile)),
        Ok(built("app", "golang:1.22"))
    );
    let text = "services:\n  app:\n    build:\n      context: .\n      target: ''\n";
    assert_eq!(
        read_service("app", text, Some(dockerfile)),
        Ok(built("app", "gcr.io/distroless/static"))
    );
}

#[test]
fn dockerfile_inline_is_the_dockerfile() {
    let text = "services:\n  app:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM alpine:3.20\n        RUN apk add git\n";
    // The inline Dockerfile wins over the text the caller passes.
    assert_eq!(
        read_service("app", text, Some("FROM ubuntu")),
        Ok(built("app", "alpine:3.20"))
    );
    assert_eq!(
        read_service("app", text, None),
        Ok(built("app", "alpine:3.20"))
    );
}

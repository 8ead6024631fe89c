//! Tests of `extends` (in the same file and in others), of the path rule for
//! the files it names, and of YAML merge keys as compose files use them.

use serde_json::json;

use crate::devcontainer::compose_tests::{built, image, read_compose, read_service};
use crate::devcontainer::paths::{join, normalize};

#[test]
fn extends_in_the_same_file() {
    let text = "\
services:
  base:
    image: node:18
    build:
      context: .
      target: dev
  web:
    extends: base
";
    let dockerfile = "FROM node:18-bookworm AS dev\nFROM node:18-slim\n";
    // The base's build comes along.
    assert_eq!(
        read_service("web", text, Some(dockerfile)),
        Ok(built("web", "node:18-bookworm"))
    );
    // The extending service's own image and build override the base's.
    let text = "\
services:
  base:
    image: node:18
  web:
    extends: {service: base}
    image: node:20
  deep:
    extends: web
";
    assert_eq!(read_service("web", text, None), Ok(image("web", "node:20")));
    assert_eq!(
        read_service("deep", text, None),
        Ok(image("deep", "node:20"))
    );
    let text = "services:\n  base:\n    build: .\n  web:\n    extends: base\n    image: node:20\n";
    assert_eq!(
        read_service("web", text, Some("FROM ubuntu")),
        Ok(built("web", "ubuntu"))
    );
}

#[test]
fn extends_in_another_file_resolves_relative_to_the_extending_file() {
    // devcontainer.json is in .devcontainer/; its compose file is in a
    // subfolder and extends one in a sibling folder of that.
    let dev = "\
services:
  app:
    extends:
      file: ../common/./base.yml
      service: app
";
    let base = "\
services:
  app:
    build:
      context: ../app
      dockerfile: docker/Dockerfile
";
    let config = json!({"dockerComposeFile": "compose/dev.yml", "service": "app"});
    let files = [("compose/dev.yml", dev), ("common/base.yml", base)];
    assert_eq!(
        read_compose(config.clone(), &files, Some("FROM golang:1.22")),
        Ok(built("app", "golang:1.22"))
    );
    // The base's context is relative to the base's own file.
    let err = read_compose(config, &files, None).unwrap_err();
    assert_eq!(err.field, "dockerfile");
    assert!(
        err.message.contains("Dockerfile 'app/docker/Dockerfile'"),
        "{}",
        err.message
    );
    // Up and out of the devcontainer.json folder: the leading `..` stays.
    let dev = "services:\n  app:\n    extends: {file: ../../shared.yml, service: x}\n";
    let config = json!({"dockerComposeFile": "compose/dev.yml", "service": "app"});
    let files = [
        ("compose/dev.yml", dev),
        ("../shared.yml", "services: {x: {image: 'redis:7'}}"),
    ];
    assert_eq!(
        read_compose(config, &files, None),
        Ok(image("app", "redis:7"))
    );
}

#[test]
fn extends_file_keys_are_normalized_and_written_keys_only_when_equal() {
    let app = "services:\n  app:\n    extends: {file: ./base.yml, service: b}\n";
    let config = json!({"dockerComposeFile": "./app.yml", "service": "app"});
    // The extends path is looked up normalized ("base.yml"), while the
    // dockerComposeFile entry is looked up as written ("./app.yml").
    let files = [
        ("./app.yml", app),
        ("base.yml", "services: {b: {image: 'a:1'}}"),
    ];
    assert_eq!(
        read_compose(config.clone(), &files, None),
        Ok(image("app", "a:1"))
    );
    // Not as written, since "./base.yml" is not the normalized key.
    let files = [
        ("./app.yml", app),
        ("./base.yml", "services: {b: {image: 'a:1'}}"),
    ];
    let err = read_compose(config, &files, None).unwrap_err();
    assert_eq!(err.field, "compose_files");
    assert!(
        err.message.contains("names file 'base.yml'"),
        "{}",
        err.message
    );
}

#[test]
fn paths_normalize() {
    for (path, normal) in [
        ("a/./b/../c", "a/c"),
        ("./a.yml", "a.yml"),
        ("../x.yml", "../x.yml"),
        ("../../a/../b", "../../b"),
        ("a/../../b", "../b"),
        ("a//b/", "a/b"),
        (".", "."),
        ("a/..", "."),
        ("/a/../../b", "/b"),
    ] {
        assert_eq!(normalize(path), normal, "{path}");
    }
    assert_eq!(join("compose", "../base.yml"), "compose/../base.yml");
    assert_eq!(join("", "base.yml"), "base.yml");
    assert_eq!(join("compose", "/abs.yml"), "/abs.yml");
}

#[test]
fn merge_keys_as_compose_files_use_them() {
    let text = "\
x-common: &common
  restart: unless-stopped
  image: node:18
x-build: &build
  build:
    context: .
    target: dev
services:
  web:
    <<: *common
  api:
    <<: [*build, *common]
  worker:
    <<: *common
    image: node:20
";
    let dockerfile = "FROM node:18-bookworm AS dev\nFROM node:18-slim\n";
    assert_eq!(read_service("web", text, None), Ok(image("web", "node:18")));
    assert_eq!(
        read_service("api", text, Some(dockerfile)),
        Ok(built("api", "node:18-bookworm"))
    );
    assert_eq!(
        read_service("worker", text, None),
        Ok(image("worker", "node:20"))
    );
}

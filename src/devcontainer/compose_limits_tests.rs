//! Tests of the ways a Docker Compose configuration is refused for what it
//! holds: unset variables and malformed interpolation, YAML it cannot read,
//! every bound, values of the wrong type, and Dockerfile faults.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::devcontainer::compose_errors_tests::assert_refused;
use crate::devcontainer::compose_tests::{read_compose, read_service};
use crate::devcontainer::yaml_tests::alias_bomb;
use crate::devcontainer::{
    read_config, Sources, MAX_COMPOSE_FILES, MAX_COMPOSE_FILE_BYTES, MAX_INTERPOLATION_DEPTH,
    MAX_YAML_NODES,
};

#[test]
fn unresolved_variables_are_named() {
    for (value, name) in [
        ("node:${TAG}", "'TAG'"),
        ("node:$TAG", "'TAG'"),
        ("${REGISTRY:?set the registry}/node", "'REGISTRY'"),
        ("${REGISTRY?}/node", "'REGISTRY'"),
        ("${A:-${B}}", "'B'"),
        ("${A-$B_2}", "'B_2'"),
    ] {
        let text = format!("services:\n  app:\n    image: \"{value}\"\n");
        assert_refused(
            read_service("app", &text, None),
            "compose_files",
            &["service 'app'", "\"image\"", name, "no environment"],
        );
    }
    let text = "services:\n  app:\n    image: \"${REGISTRY:?set the registry}/node\"\n";
    assert_refused(
        read_service("app", text, None),
        "compose_files",
        &["(set the registry)"],
    );
    // In build fields and extends too.
    let text = "services:\n  app:\n    build:\n      context: .\n      args: {V: $V}\n";
    assert_refused(
        read_service("app", text, Some("FROM a")),
        "compose_files",
        &["\"build.args.V\"", "'V'"],
    );
    let text = "services:\n  app:\n    extends: ${BASE}\n";
    assert_refused(
        read_service("app", text, None),
        "compose_files",
        &["'BASE'"],
    );
}

#[test]
fn malformed_interpolation() {
    for value in [
        "a$", "$1", "${}", "${A", "${A:-x", "${A:+x}", "${A+x}", "${A#x}", "$-",
    ] {
        let text = format!("services:\n  app:\n    image: '{value}'\n");
        let err = read_service("app", &text, None).unwrap_err();
        assert_eq!(err.field, "compose_files", "{value}: {err:?}");
        assert!(!err.message.contains("no environment"), "{value}: {err:?}");
    }
    let deep = format!(
        "{}x{}",
        "${A:-".repeat(MAX_INTERPOLATION_DEPTH + 1),
        "}".repeat(MAX_INTERPOLATION_DEPTH + 1)
    );
    let text = format!("services:\n  app:\n    image: '{deep}'\n");
    assert_refused(
        read_service("app", &text, None),
        "compose_files",
        &[&format!("bound of {MAX_INTERPOLATION_DEPTH} defaults")],
    );
    let ok = format!(
        "{}x{}",
        "${A:-".repeat(MAX_INTERPOLATION_DEPTH),
        "}".repeat(MAX_INTERPOLATION_DEPTH)
    );
    let text = format!("services:\n  app:\n    image: '{ok}'\n");
    assert!(read_service("app", &text, None).is_ok());
}

#[test]
fn yaml_errors_name_the_file_and_line() {
    let cases = [
        (
            "services:\n  app:\n    image: !reset x\n",
            "line 3: YAML tags are not supported ('!reset')",
        ),
        (
            "services:\n  app:\n    image: !override x\n",
            "('!override')",
        ),
        (
            "services:\n  app:\n    image: !!binary bm9kZToxOA==\n",
            "line 3: YAML tags are not supported ('!!')",
        ),
        (
            "services:\n  app:\n    image: a\n    image: b\n",
            "line 4: duplicate key 'image'",
        ),
        (
            "services:\n  app:\n    image: a\n---\nservices: {}\n",
            "more than one document",
        ),
        (
            "services:\n  app:\n    image: [a\n  db: x\n",
            "the YAML cannot be read: did not find expected ',' or ']' at line 4",
        ),
    ];
    for (text, needle) in cases {
        assert_refused(
            read_service("app", text, None),
            "compose_files",
            &["compose file 'docker-compose.yml'", needle],
        );
    }
    // Also in a file only an extends reads.
    let text = "services:\n  app:\n    extends: {file: base.yml, service: app}\n";
    let config = json!({"dockerComposeFile": "docker-compose.yml", "service": "app"});
    let files = [("docker-compose.yml", text), ("base.yml", "a: [\n")];
    assert_refused(
        read_compose(config, &files, None),
        "compose_files",
        &["'base.yml'"],
    );
}

#[test]
fn bounds() {
    let started = Instant::now();
    let bomb = format!(
        "services:\n  app:\n    image: x\n{}",
        alias_bomb(MAX_COMPOSE_FILE_BYTES - 1000)
    );
    assert_refused(
        read_service("app", &bomb, None),
        "compose_files",
        &[&format!("bound of {MAX_YAML_NODES} nodes")],
    );
    let deep = format!(
        "services:\n  app:\n    image: x\n    x: {}{}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    assert_refused(
        read_service("app", &deep, None),
        "compose_files",
        &["64 levels"],
    );
    let block: String = (0..100).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    assert_refused(
        read_service("app", &block, None),
        "compose_files",
        &["64 levels"],
    );
    let large = format!(
        "services:\n  app:\n    image: x\n# {}\n",
        "x".repeat(MAX_COMPOSE_FILE_BYTES)
    );
    assert_refused(
        read_service("app", &large, None),
        "compose_files",
        &["'docker-compose.yml'", "over the bound of 1048576 bytes"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn too_many_files() {
    let mut files = BTreeMap::new();
    for i in 0..=MAX_COMPOSE_FILES {
        files.insert(
            format!("f{i}.yml"),
            "services: {app: {image: x}}".to_owned(),
        );
    }
    let config = json!({"dockerComposeFile": "f0.yml", "service": "app"});
    let sources = Sources {
        devcontainer: Some(&config),
        dockerfile: None,
        compose_files: Some(&files),
    };
    assert_refused(
        read_config(sources),
        "compose_files",
        &[&format!("over the bound of {MAX_COMPOSE_FILES}")],
    );
    let names: Vec<String> = (0..=MAX_COMPOSE_FILES)
        .map(|i| format!("f{i}.yml"))
        .collect();
    let config = json!({"dockerComposeFile": names, "service": "app"});
    assert_refused(
        read_compose(config, &[], None),
        "devcontainer",
        &[
            "\"dockerComposeFile\"",
            &format!("over the bound of {MAX_COMPOSE_FILES}"),
        ],
    );
}

#[test]
fn wrong_types_in_devcontainer_json() {
    let files = [("c.yml", "services: {app: {image: x}}")];
    for bad in [
        json!(""),
        json!(1),
        json!([]),
        json!([""]),
        json!(["c.yml", 2]),
        json!({}),
    ] {
        assert_refused(
            read_compose(
                json!({"dockerComposeFile": bad, "service": "app"}),
                &files,
                None,
            ),
            "devcontainer",
            &["\"dockerComposeFile\" must be a non-empty string or a non-empty array"],
        );
    }
    assert_refused(
        read_compose(json!({"dockerComposeFile": "c.yml"}), &files, None),
        "devcontainer",
        &["needs \"service\""],
    );
    for bad in [json!(""), json!(1), json!(["app"]), json!(null)] {
        assert_refused(
            read_compose(
                json!({"dockerComposeFile": "c.yml", "service": bad}),
                &files,
                None,
            ),
            "devcontainer",
            &["\"service\" must be a non-empty string"],
        );
    }
}

#[test]
fn wrong_types_in_compose_files() {
    for (service, needle) in [
        ("{image: 3}", "\"image\" must be a string"),
        ("{image: ''}", "\"image\" is empty"),
        ("{build: 3}", "\"build\" must be a string or a mapping"),
        (
            "{build: {context: [a]}}",
            "\"build.context\" must be a string",
        ),
        ("{build: {target: 1}}", "\"build.target\" must be a string"),
        (
            "{build: {args: 3}}",
            "\"build.args\" must be a mapping or a list",
        ),
        (
            "{build: {args: {A: [1]}}}",
            "\"build.args.A\" must be a string or a number",
        ),
        (
            "{build: {args: {A: 1e30}}}",
            "\"build.args.A\" is a number that is ambiguous",
        ),
        ("{build: {args: [1]}}", "list entries must be strings"),
        ("{build: {args: ['=x']}}", "has no name"),
        (
            "{build: {dockerfile: D, dockerfile_inline: 'FROM a'}}",
            "cannot both be set",
        ),
        (
            "{build: {additional_contexts: {base: 'docker-image://evil'}}}",
            "additional_contexts",
        ),
    ] {
        let text = format!("services:\n  app: {service}\n");
        assert_refused(
            read_service("app", &text, Some("FROM a")),
            "compose_files",
            &["compose file 'docker-compose.yml', service 'app'", needle],
        );
    }
}

#[test]
fn dockerfile_errors() {
    let text = "services:\n  app:\n    build:\n      context: ..\n      dockerfile: .devcontainer/Dockerfile\n      target: test\n";
    // The Dockerfile's own faults blame the Dockerfile, as for devcontainer.json.
    assert_refused(
        read_service("app", text, Some("ARG V\nFROM node:$V AS test\n")),
        "dockerfile",
        &["Dockerfile line 2", "'V'"],
    );
    // An unknown target is the compose file's fault.
    assert_refused(
        read_service("app", text, Some("FROM node AS dev\n")),
        "compose_files",
        &["service 'app'", "\"build.target\" names stage 'test'"],
    );
    // An inline Dockerfile's faults are the compose file's.
    let inline = "services:\n  app:\n    build:\n      dockerfile_inline: 'RUN x'\n";
    assert_refused(
        read_service("app", inline, None),
        "compose_files",
        &["\"build.dockerfile_inline\"", "no FROM"],
    );
    // A remote context is named as such.
    let remote = "services:\n  app:\n    build: https://github.com/octo/app.git#main\n";
    assert_refused(
        read_service("app", remote, None),
        "dockerfile",
        &["Dockerfile 'Dockerfile' of the remote context 'https://github.com/octo/app.git#main'"],
    );
}

//! Tests of the ways a Docker Compose configuration is refused for what it
//! lacks: files (named for the caller to read), services, an image or build,
//! and `extends` that loop or are malformed.

use std::collections::BTreeMap;

use serde_json::json;

use crate::devcontainer::compose_tests::{read_compose, read_service};
use crate::devcontainer::{
    read_config, ConfigError, ConfiguredImage, Missing, Sources, MAX_EXTENDS_DEPTH,
};

/// Asserts `result` is an error blaming `field` whose message holds every
/// one of `needles`.
pub(crate) fn assert_refused(
    result: Result<ConfiguredImage, ConfigError>,
    field: &str,
    needles: &[&str],
) {
    let err = result.unwrap_err();
    assert_eq!(err.field, field, "{err:?}");
    for needle in needles {
        assert!(
            err.message.contains(needle),
            "{:?} lacks {needle:?}",
            err.message
        );
    }
}

#[test]
fn missing_files() {
    let config = json!({"dockerComposeFile": ["a.yml", "b.yml"], "service": "app"});
    let a = "services: {app: {image: 'x:1'}}";
    assert_refused(
        read_compose(config.clone(), &[("a.yml", a)], None),
        "compose_files",
        &["'b.yml'", "compose_files does not hold"],
    );
    // No compose_files at all.
    let sources = Sources {
        devcontainer: Some(&config),
        dockerfile: None,
        compose_files: None,
    };
    assert_refused(read_config(sources), "compose_files", &["'a.yml'"]);
    // A file an extends names.
    let text = "services:\n  app:\n    extends: {file: base.yml, service: app}\n";
    assert_refused(
        read_service("app", text, None),
        "compose_files",
        &["'docker-compose.yml'", "'app'", "names file 'base.yml'"],
    );
}

#[test]
fn missing_files_are_named_for_the_caller() {
    let missing = |result: Result<ConfiguredImage, ConfigError>| result.unwrap_err().missing;
    let config = json!({"dockerComposeFile": ["./a.yml", "b.yml"], "service": "app"});
    assert_eq!(
        missing(read_compose(config.clone(), &[], None)),
        Some(Missing::ComposeFile("./a.yml".into()))
    );
    let a = "services:\n  app:\n    extends: {file: ../common/base.yml, service: app}\n";
    let config = json!({"dockerComposeFile": "compose/a.yml", "service": "app"});
    assert_eq!(
        missing(read_compose(config, &[("compose/a.yml", a)], None)),
        Some(Missing::ComposeFile("common/base.yml".into()))
    );
    let build = "services:\n  app:\n    build: {context: .., dockerfile: docker/Dockerfile}\n";
    assert_eq!(
        missing(read_service("app", build, None)),
        Some(Missing::Dockerfile("../docker/Dockerfile".into()))
    );
    // Not a file that could be read, or not missing at all.
    let remote = "services:\n  app:\n    build: https://github.com/octo/app.git\n";
    assert_eq!(missing(read_service("app", remote, None)), None);
    assert_eq!(missing(read_service("db", build, None)), None);
    assert_eq!(missing(read_service("app", "a: [", None)), None);
}

/// A caller that only has the repository: it reads what each error says is missing and
/// asks again, until the answer comes.
#[test]
fn a_caller_can_read_what_is_missing_until_the_answer() {
    let repository = BTreeMap::from([
        (
            "compose/dev.yml",
            "services:\n  app:\n    extends: {file: ../base.yml, service: app}\n",
        ),
        (
            "base.yml",
            "services:\n  app:\n    build: {context: ., target: dev}\n",
        ),
        ("Dockerfile", "FROM rust:1 AS dev\nFROM debian\n"),
    ]);
    let config = json!({"dockerComposeFile": "compose/dev.yml", "service": "app"});
    let mut compose_files = BTreeMap::new();
    let mut dockerfile = None;
    let mut asked = Vec::new();
    let answer = loop {
        let sources = Sources {
            devcontainer: Some(&config),
            dockerfile,
            compose_files: Some(&compose_files),
        };
        match read_config(sources) {
            Err(ConfigError {
                missing: Some(Missing::ComposeFile(key)),
                ..
            }) => {
                compose_files.insert(key.clone(), repository[key.as_str()].to_owned());
                asked.push(key);
            }
            Err(ConfigError {
                missing: Some(Missing::Dockerfile(path)),
                ..
            }) => {
                dockerfile = Some(repository[path.as_str()]);
                asked.push(path);
            }
            other => break other,
        }
    };
    assert_eq!(asked, ["compose/dev.yml", "base.yml", "Dockerfile"]);
    assert_eq!(
        answer,
        Ok(ConfiguredImage::ComposeBuild {
            service: "app".into(),
            base_image: "rust:1".into()
        })
    );
}

#[test]
fn unknown_services() {
    let text = "services:\n  db:\n    image: postgres\n";
    assert_refused(
        read_service("app", text, None),
        "compose_files",
        &["no compose file (docker-compose.yml) defines the service 'app'"],
    );
    // A file with no services, or no mapping at all.
    for text in ["", "version: '3'\n", "services:\n"] {
        assert_refused(read_service("app", text, None), "compose_files", &["'app'"]);
    }
    assert_refused(
        read_service("app", "- a\n", None),
        "compose_files",
        &["must hold a mapping"],
    );
    assert_refused(
        read_service("app", "services: [app]\n", None),
        "compose_files",
        &["\"services\" must be a mapping"],
    );
    assert_refused(
        read_service("app", "services: {app: 3}\n", None),
        "compose_files",
        &["service 'app' must be a mapping"],
    );
    // An extends naming a service its file does not define.
    let text = "services:\n  app:\n    extends: base\n";
    assert_refused(
        read_service("app", text, None),
        "compose_files",
        &[
            "names service 'base'",
            "'docker-compose.yml' does not define",
        ],
    );
}

#[test]
fn neither_image_nor_build() {
    for text in [
        "services:\n  app:\n    command: sleep infinity\n",
        "services:\n  app:\n",
        "services:\n  base: {ports: ['80']}\n  app:\n    extends: base\n",
    ] {
        assert_refused(
            read_service("app", text, None),
            "compose_files",
            &["the service 'app' has neither \"image\" nor \"build\""],
        );
    }
    // Null is not an image, nor a way to remove one.
    assert_refused(
        read_service("app", "services:\n  app:\n    image:\n", None),
        "compose_files",
        &["\"image\" is null"],
    );
    let over = "services:\n  app:\n    build: null\n";
    let config = json!({"dockerComposeFile": ["a.yml", "b.yml"], "service": "app"});
    let a = "services: {app: {image: 'x:1', build: .}}";
    assert_refused(
        read_compose(config, &[("a.yml", a), ("b.yml", over)], None),
        "compose_files",
        &["'b.yml'", "\"build\" is null"],
    );
}

#[test]
fn extends_cycles() {
    let text = "services:\n  a:\n    extends: b\n  b:\n    extends: {service: a}\n";
    assert_refused(
        read_service("a", text, None),
        "compose_files",
        &[
            "cycle",
            "'a' in 'docker-compose.yml' extends 'b' in 'docker-compose.yml' extends 'a'",
        ],
    );
    let text = "services:\n  a:\n    extends: a\n    image: x\n";
    assert_refused(
        read_service("a", text, None),
        "compose_files",
        &["cycle: 'a' in 'docker-compose.yml' extends 'a' in 'docker-compose.yml'"],
    );
    // Across files: one.yml's a extends two.yml's a, which extends back.
    let one = "services:\n  a:\n    extends: {file: two.yml, service: a}\n";
    let two = "services:\n  a:\n    extends: {file: ./one.yml, service: a}\n";
    let config = json!({"dockerComposeFile": "one.yml", "service": "a"});
    assert_refused(
        read_compose(config, &[("one.yml", one), ("two.yml", two)], None),
        "compose_files",
        &["cycle", "'a' in 'two.yml'"],
    );
    // A chain longer than the bound, without a cycle.
    let mut text = String::from("services:\n  s0:\n    image: x\n");
    for i in 1..=MAX_EXTENDS_DEPTH + 1 {
        text.push_str(&format!("  s{i}:\n    extends: s{}\n", i - 1));
    }
    let last = format!("s{}", MAX_EXTENDS_DEPTH + 1);
    assert_refused(
        read_service(&last, &text, None),
        "compose_files",
        &[&format!("more than {MAX_EXTENDS_DEPTH} services")],
    );
    let ok = format!("s{MAX_EXTENDS_DEPTH}");
    assert_eq!(
        read_service(&ok, &text, None),
        Ok(ConfiguredImage::Compose {
            service: ok.clone(),
            image: "x".into()
        })
    );
}

#[test]
fn bad_extends_values() {
    for (extends, needle) in [
        ("[a]", "\"extends\" must be a string or a mapping"),
        ("{file: x.yml}", "\"extends.service\" must be a string"),
        ("{service: a, file: 3}", "\"extends.file\" must be a string"),
        ("''", "empty service"),
    ] {
        let text = format!("services:\n  app:\n    extends: {extends}\n");
        assert_refused(read_service("app", &text, None), "compose_files", &[needle]);
    }
}

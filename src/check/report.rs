//! What `check` prints: a few lines a person takes in at a glance in a CI log, then the
//! creation log the codespace would get.

use std::fmt::Write;

use serde_json::Value;

/// The preflight answer for a person.
pub fn text(repository: &str, config_path: &str, answer: &Value) -> String {
    let field = |name: &str| answer[name].as_str().unwrap_or_default();
    let verdict = match field("outcome") {
        "create" => "would be created as configured",
        "refuse" => "REFUSED: the codespace would not be created",
        _ => "RECOVERY MODE: the codespace would be created on the recovery image",
    };
    let mut out = String::new();
    let _ = writeln!(out, "Codespace for {repository} ({config_path}): {verdict}");
    let _ = writeln!(
        out,
        "  image:  {} (from {})",
        field("image"),
        field("image_source")
    );
    if let Some(message) = answer["message"].as_str() {
        let _ = writeln!(out, "  reason: {message}");
    }
    for policy in answer["policies"].as_array().into_iter().flatten() {
        let allowed = policy["allowed"].as_bool() == Some(true);
        let how = match policy["matched_value"].as_str() {
            Some(value) if allowed => format!("allows it (matches '{value}')"),
            _ if allowed => "allows it".to_string(),
            _ => "refuses it".to_string(),
        };
        let _ = writeln!(
            out,
            "  policy #{} '{}': {how}",
            policy["id"],
            policy["name"].as_str().unwrap_or_default()
        );
    }
    let _ = writeln!(out, "Creation log:");
    for line in answer["creation_log"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  {}", line.as_str().unwrap_or_default());
    }
    out
}

/// One line for an answer other than 200: its status, message and each field error.
pub fn error_line(status: u16, answer: &Value) -> String {
    let mut line = format!(
        "the service answered {status}: {}",
        answer["message"].as_str().unwrap_or("no message")
    );
    for error in answer["errors"].as_array().into_iter().flatten() {
        let _ = write!(
            line,
            "; {}: {}",
            error["field"].as_str().unwrap_or_default(),
            error["message"].as_str().unwrap_or_default()
        );
    }
    if status == 401 {
        line.push_str(" (is BIP_TOKEN a valid token?)");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_refusal_reads_at_a_glance() {
        let answer = json!({
            "outcome": "refuse", "image": "node:18", "image_source": "image",
            "message": "Base image 'node:18' is not allowed based on an organization policy set by your organization administrator.",
            "policies": [
                {"id": 7, "name": "Approved images", "allowed": false, "matched_value": null},
                {"id": 8, "name": "Node", "allowed": true, "matched_value": "node:*"}
            ],
            "registries": [],
            "creation_log": ["Resolving the dev container configuration of octo/app."],
        });
        let text = text("octo/app", ".devcontainer/devcontainer.json", &answer);
        assert_eq!(
            text,
            "Codespace for octo/app (.devcontainer/devcontainer.json): REFUSED: the codespace would not be created\n\
             \x20 image:  node:18 (from image)\n\
             \x20 reason: Base image 'node:18' is not allowed based on an organization policy set by your organization administrator.\n\
             \x20 policy #7 'Approved images': refuses it\n\
             \x20 policy #8 'Node': allows it (matches 'node:*')\n\
             Creation log:\n\
             \x20 Resolving the dev container configuration of octo/app.\n"
        );
    }

    #[test]
    fn errors_name_each_field() {
        let answer = json!({
            "message": "Validation Failed", "documentation_url": "x",
            "errors": [{"resource": "Codespace", "field": "compose_files", "code": "invalid",
                        "message": "service 'app' is not defined"}],
        });
        assert_eq!(
            error_line(422, &answer),
            "the service answered 422: Validation Failed; compose_files: service 'app' is not defined"
        );
        assert!(
            error_line(401, &json!({"message": "Requires authentication"})).contains("BIP_TOKEN")
        );
    }
}

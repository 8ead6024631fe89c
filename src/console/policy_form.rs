//! The create and edit form's state: read from a policy answer or from a submitted form,
//! changed by the form's buttons (add a constraint, add or remove a value), and turned into
//! the body the API takes. Errors are kept by the API's field names, to show beside them.

use serde_json::{json, Map, Value};

use super::constraints::{kind, of_policy, Constraint, Shape, KINDS};
use super::form::Fields;
use super::strings;

/// What a button of the form asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Save,
    Preview,
    /// Draw the form again as sent (Enter in a field, or a form without a known button).
    Stay,
    AddConstraint(String),
    RemoveConstraint(String),
    RemoveValue(String, usize),
}

impl Intent {
    pub fn parse(raw: Option<&str>) -> Self {
        let raw = raw.unwrap_or_default();
        let mut parts = raw.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("save"), None, None) => Self::Save,
            (Some("preview"), None, None) => Self::Preview,
            (Some("add_constraint"), Some(key), None) => Self::AddConstraint(key.to_string()),
            (Some("remove_constraint"), Some(key), None) => Self::RemoveConstraint(key.to_string()),
            (Some("remove_value"), Some(key), Some(i)) => match i.parse() {
                Ok(i) => Self::RemoveValue(key.to_string(), i),
                Err(_) => Self::Stay,
            },
            _ => Self::Stay,
        }
    }
}

/// Errors by the API's field name (`name`, `constraints.base_images.allowed_values[1]`).
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    /// The `errors` of a 422 answer, or its message alone when it names no field.
    pub fn of_answer(body: &Value) -> Self {
        let mut errors: Vec<(String, String)> = body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        let field = e["field"].as_str().unwrap_or_default().to_string();
                        let message = e["message"].as_str().unwrap_or_default().to_string();
                        (field, message)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if errors.is_empty() {
            let message = body["message"].as_str().unwrap_or("The change was refused");
            errors.push((String::new(), message.to_string()));
        }
        Self(errors)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages for exactly `field`.
    pub fn on(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect()
    }

    /// The messages for `field` and every field under it (`repositories[2]`).
    pub fn under(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(f, _)| f == field || f.starts_with(&format!("{field}[")))
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

/// The form's fields.
#[derive(Debug, Clone)]
pub struct PolicyForm {
    pub name: String,
    /// `enforce` or `report`.
    pub enforcement: String,
    /// `all_repositories` or `selected_repositories`.
    pub target: String,
    pub repositories: Vec<String>,
    pub constraints: Vec<Constraint>,
    /// The `ETag` the edit page was drawn from: sent as `If-Match`.
    pub version: Option<String>,
}

impl PolicyForm {
    /// A new policy, before any step: org-wide, enforced, no constraint yet.
    pub fn empty() -> Self {
        Self {
            name: String::new(),
            enforcement: "enforce".to_string(),
            target: "all_repositories".to_string(),
            repositories: Vec::new(),
            constraints: Vec::new(),
            version: None,
        }
    }

    /// A policy answer, with its `ETag`.
    pub fn from_policy(policy: &Value, etag: Option<String>) -> Self {
        let text = |key: &str| policy[key].as_str().unwrap_or_default().to_string();
        Self {
            name: text("name"),
            enforcement: text("enforcement"),
            target: text("target"),
            repositories: strings(&policy["repositories"]),
            constraints: of_policy(&policy["constraints"]),
            version: etag,
        }
    }

    /// A submitted form. Blank values are dropped and a value typed into a constraint's
    /// new-value field joins its list, so that the list the API judges is the one drawn.
    pub fn from_fields(fields: &Fields) -> Self {
        let constraints = KINDS
            .iter()
            .filter(|kind| fields.all("constraint").iter().any(|k| k == kind.key))
            .map(|kind| {
                let mut constraint = Constraint::new(kind);
                let listed = fields.all(&format!("{}.allowed_values", kind.key));
                let typed = fields.all(&format!("{}.new_value", kind.key));
                constraint.values = listed
                    .into_iter()
                    .chain(typed)
                    .filter(|value| !value.is_empty())
                    .collect();
                if let Shape::Number { .. } = kind.shape {
                    constraint.number = fields.text(&format!("{}.value", kind.key));
                }
                constraint
            })
            .collect();
        Self {
            name: fields.text("name"),
            enforcement: fields.text("enforcement"),
            target: fields.text("target"),
            repositories: fields.all("repositories"),
            constraints,
            version: fields.get("version").map(str::to_string),
        }
    }

    /// Applies a button that changes the form; answers the id of the field to focus next.
    pub fn apply(&mut self, intent: &Intent) -> Option<String> {
        match intent {
            Intent::AddConstraint(key) => {
                let kind = kind(key)?;
                if !self.constraints.iter().any(|c| c.kind.key == kind.key) {
                    self.constraints.push(Constraint::new(kind));
                    self.constraints
                        .sort_by_key(|c| KINDS.iter().position(|k| k.key == c.kind.key));
                }
                Some(match kind.shape {
                    Shape::Number { .. } => format!("constraints.{}.value", kind.key),
                    Shape::Choices(_) | Shape::Machines => format!("{}-choices", kind.key),
                    Shape::Values { .. } => format!("{}-new", kind.key),
                })
            }
            Intent::RemoveConstraint(key) => {
                self.constraints.retain(|c| c.kind.key != key);
                Some("add-constraint".to_string())
            }
            Intent::RemoveValue(key, index) => {
                let constraint = self.constraints.iter_mut().find(|c| c.kind.key == key)?;
                if *index < constraint.values.len() {
                    constraint.values.remove(*index);
                }
                Some(format!("{key}-new"))
            }
            Intent::Save | Intent::Preview | Intent::Stay => None,
        }
    }

    /// The policy as the API takes it (POST, PATCH and preview alike), or the fields that
    /// cannot be sent as typed.
    pub fn body(&self) -> Result<Value, FieldErrors> {
        let mut constraints = Map::new();
        let mut errors = FieldErrors::default();
        for constraint in &self.constraints {
            match constraint.to_json() {
                Ok(value) => {
                    constraints.insert(constraint.kind.key.to_string(), value);
                }
                Err(message) => errors.0.push((constraint.field(), message)),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let selected = self.target == "selected_repositories";
        let repositories = if selected {
            self.repositories.clone()
        } else {
            Vec::new()
        };
        Ok(json!({
            "name": self.name,
            "target": self.target,
            "repositories": repositories,
            "constraints": constraints,
            "enforcement": self.enforcement,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;

    #[test]
    fn a_typed_value_joins_the_list_and_blanks_are_dropped() {
        let fields = Fields::parse(&Bytes::from_static(
            b"name=P&target=all_repositories&enforcement=enforce&constraint=base_images\
              &base_images.allowed_values=node%3A18&base_images.allowed_values=\
              &base_images.new_value=python%3A3",
        ));
        let form = PolicyForm::from_fields(&fields);
        assert_eq!(form.constraints[0].values, ["node:18", "python:3"]);
        let body = form.body().unwrap();
        assert_eq!(
            body["constraints"]["base_images"]["allowed_values"],
            json!(["node:18", "python:3"])
        );
        assert_eq!(body["repositories"], json!([]));
    }

    #[test]
    fn buttons_add_and_remove_constraints_and_values() {
        let mut form = PolicyForm::empty();
        form.apply(&Intent::parse(Some("add_constraint:base_images")));
        form.constraints[0].values = vec!["a".into(), "b".into()];
        form.apply(&Intent::parse(Some("remove_value:base_images:0")));
        assert_eq!(form.constraints[0].values, ["b"]);
        form.apply(&Intent::parse(Some("remove_constraint:base_images")));
        assert!(form.constraints.is_empty());
        assert_eq!(Intent::parse(Some("nonsense:1:2")), Intent::Stay);
    }
}

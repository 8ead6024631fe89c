//! The constraints "Add constraint" offers, each with the fields it is edited with and the
//! JSON the API takes for it: one table, so that a new constraint is one entry here.

use serde_json::{json, Value};

/// How a constraint is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"allowed_values": [...]}` of free text, added and removed one by one.
    Values { singular: &'static str },
    /// `{"allowed_values": [...]}` chosen among fixed choices (value, label).
    Choices(&'static [(&'static str, &'static str)]),
    /// `{"allowed_values": [...]}` chosen among the service's machine catalog.
    Machines,
    /// `{"value": N}`, a whole number from `min` to `max`, in `unit`.
    Number {
        min: i64,
        max: i64,
        unit: &'static str,
    },
}

/// One constraint type of a policy.
#[derive(Debug)]
pub struct Kind {
    /// Its key in `constraints`.
    pub key: &'static str,
    /// Its name in the console, in the seed's words.
    pub label: &'static str,
    pub help: &'static str,
    pub shape: Shape,
}

/// Every constraint a policy may hold, in the order the console shows them.
pub const KINDS: &[Kind] = &[
    Kind {
        key: "base_images",
        label: "Base images",
        help: "Images a codespace may be built from. Each value is an image reference matched \
               as written, exact (node:18) or a prefix ending in * \
               (mcr.microsoft.com/devcontainers/*).",
        shape: Shape::Values {
            singular: "Allowed value",
        },
    },
    Kind {
        key: "machine_types",
        label: "Machine types",
        help: "The machines codespaces may run on, at creation and at every start.",
        shape: Shape::Machines,
    },
    Kind {
        key: "max_codespaces_per_user",
        label: "Maximum codespaces per user",
        help: "Codespaces a user may have billed to the organization, running or stopped. \
               Only in a policy for all repositories.",
        shape: Shape::Number {
            min: 1,
            max: 100,
            unit: "codespaces",
        },
    },
    Kind {
        key: "max_idle_timeout_minutes",
        label: "Maximum idle timeout",
        help: "How long an idle codespace keeps running; a user's shorter choice stands.",
        shape: Shape::Number {
            min: 5,
            max: 240,
            unit: "minutes",
        },
    },
    Kind {
        key: "max_retention_period_days",
        label: "Retention period",
        help: "How long a stopped codespace is kept before it is deleted; a user's shorter \
               choice stands.",
        shape: Shape::Number {
            min: 0,
            max: 30,
            unit: "days",
        },
    },
    Kind {
        key: "port_visibility",
        label: "Port visibility",
        help: "Who a codespace's forwarded ports may be shared with. Private is always allowed.",
        shape: Shape::Choices(&[
            ("private", "Private to the user"),
            ("org", "The organization"),
            ("public", "Public"),
        ]),
    },
];

pub fn kind(key: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|kind| kind.key == key)
}

/// A constraint as a form holds it.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub kind: &'static Kind,
    /// The values, for [`Shape::Values`] and [`Shape::Choices`].
    pub values: Vec<String>,
    /// The number as typed, for [`Shape::Number`].
    pub number: String,
}

impl Constraint {
    pub fn new(kind: &'static Kind) -> Self {
        Self {
            kind,
            values: Vec::new(),
            number: String::new(),
        }
    }

    /// The constraint as a policy answer holds it.
    pub fn from_json(kind: &'static Kind, value: &Value) -> Self {
        let values = super::strings(&value["allowed_values"]);
        let number = match &value["value"] {
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        Self {
            kind,
            values,
            number,
        }
    }

    /// The constraint as the API takes it; a number that is not one is the form's error
    /// (`Err` with its message), named by the field the API would name.
    pub fn to_json(&self) -> Result<Value, String> {
        match self.kind.shape {
            Shape::Values { .. } | Shape::Choices(_) | Shape::Machines => {
                Ok(json!({ "allowed_values": self.values }))
            }
            Shape::Number { min, max, .. } => match self.number.trim().parse::<i64>() {
                Ok(n) => Ok(json!({ "value": n })),
                Err(_) => Err(format!("must be a whole number from {min} to {max}")),
            },
        }
    }

    /// The API's name for this constraint's field (`constraints.base_images.allowed_values`).
    pub fn field(&self) -> String {
        match self.kind.shape {
            Shape::Number { .. } => format!("constraints.{}.value", self.kind.key),
            _ => format!("constraints.{}.allowed_values", self.kind.key),
        }
    }

    /// What a policy list says of the constraint.
    pub fn summary(&self) -> String {
        match self.kind.shape {
            Shape::Number { .. } => self.number.clone(),
            _ if self.values.is_empty() => "none".to_string(),
            _ => self.values.join(", "),
        }
    }
}

/// The constraints of a policy answer's `constraints`, in [`KINDS`] order.
pub fn of_policy(constraints: &Value) -> Vec<Constraint> {
    KINDS
        .iter()
        .filter(|kind| !constraints[kind.key].is_null())
        .map(|kind| Constraint::from_json(kind, &constraints[kind.key]))
        .collect()
}

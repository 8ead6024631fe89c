//! The create and edit form, drawn from its state: the seed's steps in order (a name,
//! "Add constraint", the "Allowed values" field, "All repositories" / "Selected
//! repositories", "Save"), each error beside the field the API named.

use maud::{html, Markup};

use super::constraints::{Constraint, Shape, KINDS};
use super::policy_form::{FieldErrors, PolicyForm};

/// What the form is drawn with.
pub struct FormView<'a> {
    pub form: &'a PolicyForm,
    pub errors: &'a FieldErrors,
    pub repos: &'a [String],
    pub csrf: &'a str,
    /// Where the form is posted.
    pub action: &'a str,
    /// The id of the control a button of the form moved the work to.
    pub focus: Option<&'a str>,
    /// The machine catalog, `(name, label)`, for "Machine types".
    pub machines: &'a [(String, String)],
}

/// The messages for a field, as a list under it (`id` is the field's, for `aria-describedby`).
fn field_errors(id: &str, messages: &[&str]) -> Markup {
    html! {
        @if !messages.is_empty() {
            ul.field-error id={ (id) "-error" } {
                @for message in messages { li { (message) } }
            }
        }
    }
}

fn described_by(id: &str, messages: &[&str]) -> Option<String> {
    (!messages.is_empty()).then(|| format!("{id}-error"))
}

/// Every error, at the top, each linking to its field.
fn summary(errors: &FieldErrors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.notice.error role="alert" {
                p { strong { "The policy was not saved:" } }
                ul {
                    @for (field, message) in &errors.0 {
                        li {
                            @if field.is_empty() { (message) }
                            @else { a href={ "#" (anchor(field)) } { (label_of(field)) " " (message) } }
                        }
                    }
                }
            }
        }
    }
}

/// The id of the element an API field is shown beside.
fn anchor(field: &str) -> String {
    if field.starts_with("repositories") || field == "target" {
        "repositories".to_string()
    } else {
        field.to_string()
    }
}

/// A field as a person reads it: `constraints.base_images.allowed_values[1]` is
/// "Base images, allowed value 2".
fn label_of(field: &str) -> String {
    let Some(rest) = field.strip_prefix("constraints.") else {
        let mut chars = field.chars();
        return chars
            .next()
            .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect());
    };
    let (key, tail) = rest.split_once('.').unwrap_or((rest, ""));
    let label = KINDS.iter().find(|k| k.key == key).map_or(key, |k| k.label);
    match tail
        .strip_prefix("allowed_values[")
        .and_then(|t| t.strip_suffix(']'))
    {
        Some(i) => match i.parse::<usize>() {
            Ok(i) => format!("{label}, allowed value {}:", i + 1),
            Err(_) => format!("{label}:"),
        },
        None => format!("{label}:"),
    }
}

pub fn policy_form(view: &FormView) -> Markup {
    let form = view.form;
    let errors = view.errors;
    let name_errors = errors.on("name");
    let selected = form.target == "selected_repositories";
    html! {
        (summary(errors))
        form.policy method="post" action=(view.action) novalidate {
            // The first submit button is the one Enter presses: it draws the form again,
            // with the value typed so far added, and saves nothing.
            button.implicit type="submit" name="intent" value="stay" tabindex="-1" aria-hidden="true" { "Update form" }
            input type="hidden" name="csrf" value=(view.csrf);
            @if let Some(version) = &form.version { input type="hidden" name="version" value=(version); }
            div.field {
                label for="name" { "Name" }
                input #name type="text" name="name" value=(form.name) maxlength="100"
                    autofocus[view.focus == Some("name")]
                    aria-invalid=[(!name_errors.is_empty()).then_some("true")]
                    aria-describedby=[described_by("name", &name_errors)];
                (field_errors("name", &name_errors))
            }
            h2 { "Constraints" }
            @for message in errors.on("constraints") { p.field-error { (message) } }
            @for constraint in &form.constraints { (constraint_fields(constraint, errors, view)) }
            (add_constraint(form, view.focus))
            fieldset #repositories {
                legend { "Repositories" }
                div.choice {
                    input #target-all type="radio" name="target" value="all_repositories" checked[!selected];
                    label for="target-all" { "All repositories" }
                }
                div.choice {
                    input #target-selected type="radio" name="target" value="selected_repositories" checked[selected];
                    label for="target-selected" { "Selected repositories" }
                }
                (field_errors("target", &errors.on("target")))
                div #repo-checklist role="group" aria-labelledby="repo-checklist-label" {
                    p #repo-checklist-label { "The repositories a selected-repositories policy applies to" }
                    @if view.repos.is_empty() { p.help { "This organization has no repositories yet." } }
                    ul.checklist {
                        @for (i, repo) in view.repos.iter().enumerate() {
                            li {
                                input id={ "repo-" (i) } type="checkbox" name="repositories" value=(repo)
                                    checked[form.repositories.iter().any(|r| r.eq_ignore_ascii_case(repo))];
                                label for={ "repo-" (i) } { (repo) }
                            }
                        }
                    }
                }
                (field_errors("repositories", &errors.under("repositories")))
            }
            fieldset {
                legend { "Enforcement" }
                div.choice {
                    input #enforce type="radio" name="enforcement" value="enforce" checked[form.enforcement != "report"];
                    label for="enforce" { "Enforce: refuse the images it does not allow" }
                }
                div.choice {
                    input #report type="radio" name="enforcement" value="report" checked[form.enforcement == "report"];
                    label for="report" { "Report only: refuse nothing, log what it would refuse" }
                }
                (field_errors("enforcement", &errors.on("enforcement")))
            }
            div.actions {
                button.primary type="submit" name="intent" value="save" { "Save" }
                button type="submit" name="intent" value="preview" { "Preview change" }
            }
        }
    }
}

/// "Add constraint", then the constraint types not in the policy yet: a disclosure that
/// opens with a click or Enter, with no script.
fn add_constraint(form: &PolicyForm, focus: Option<&str>) -> Markup {
    let missing: Vec<_> = KINDS
        .iter()
        .filter(|kind| !form.constraints.iter().any(|c| c.kind.key == kind.key))
        .collect();
    html! {
        @if !missing.is_empty() {
            details.add-constraint #add-constraint {
                summary autofocus[focus == Some("add-constraint")] { "Add constraint" }
                ul.menu {
                    @for kind in missing {
                        li { button type="submit" name="intent" value={ "add_constraint:" (kind.key) } { (kind.label) } }
                    }
                }
            }
        }
    }
}

fn constraint_fields(constraint: &Constraint, errors: &FieldErrors, view: &FormView) -> Markup {
    let focus = view.focus;
    let key = constraint.kind.key;
    let field = constraint.field();
    let own = errors.on(&format!("constraints.{key}"));
    html! {
        fieldset.constraint id={ "constraint-" (key) } tabindex="-1" {
            legend { (constraint.kind.label) }
            input type="hidden" name="constraint" value=(key);
            p.help { (constraint.kind.help) }
            (field_errors(&format!("constraints.{key}"), &own))
            @match constraint.kind.shape {
                Shape::Values { singular } => (value_list(constraint, singular, &field, errors, focus)),
                Shape::Choices(choices) => (choice_list(constraint, choices, &field, errors, focus)),
                Shape::Machines => (choice_list(constraint, &machine_choices(view.machines), &field, errors, focus)),
                Shape::Number { min, max, unit } => (number_field(constraint, (min, max, unit), &field, errors, focus)),
            }
            button.secondary type="submit" name="intent" value={ "remove_constraint:" (key) } {
                "Remove constraint" span.vh { " " (constraint.kind.label) }
            }
        }
    }
}

/// The "Allowed values" field: each value with its Remove button, and a field for another.
fn value_list(
    constraint: &Constraint,
    singular: &str,
    field: &str,
    errors: &FieldErrors,
    focus: Option<&str>,
) -> Markup {
    let key = constraint.kind.key;
    let list_errors = errors.on(field);
    html! {
        ul.values data-key=(key) {
            @for (i, value) in constraint.values.iter().enumerate() {
                @let id = format!("{field}[{i}]");
                @let messages = errors.on(&id);
                li {
                    input id=(id) type="text" name={ (key) ".allowed_values" } value=(value)
                        aria-label={ (singular) " " (i + 1) }
                        aria-invalid=[(!messages.is_empty()).then_some("true")]
                        aria-describedby=[described_by(&id, &messages)];
                    button.secondary type="submit" name="intent" value={ "remove_value:" (key) ":" (i) } {
                        "Remove" span.vh { " " (value) }
                    }
                    (field_errors(&id, &messages))
                }
            }
        }
        div.field.new-value {
            label for={ (key) "-new" } { "Allowed values" }
            input id={ (key) "-new" } type="text" name={ (key) ".new_value" } data-key=(key)
                autofocus[focus == Some(format!("{key}-new").as_str())]
                aria-describedby=[described_by(field, &list_errors)];
            button.secondary type="submit" name="intent" value="stay" data-add=(key) { "Add value" }
            (field_errors(field, &list_errors))
        }
    }
}

fn choice_list(
    constraint: &Constraint,
    choices: &[(&str, &str)],
    field: &str,
    errors: &FieldErrors,
    focus: Option<&str>,
) -> Markup {
    let key = constraint.kind.key;
    html! {
        div role="group" aria-label={ (constraint.kind.label) ": allowed values" } {
            p { "Allowed values" }
            ul.checklist {
                @for (i, (value, label)) in choices.iter().enumerate() {
                    li {
                        input id={ (key) "-" (value) } type="checkbox" name={ (key) ".allowed_values" } value=(value)
                            autofocus[i == 0 && focus == Some(format!("{key}-choices").as_str())]
                            checked[constraint.values.iter().any(|v| v == value)];
                        label for={ (key) "-" (value) } { (label) }
                    }
                }
            }
        }
        (field_errors(field, &errors.under(field)))
    }
}

fn machine_choices(machines: &[(String, String)]) -> Vec<(&str, &str)> {
    machines
        .iter()
        .map(|(name, label)| (name.as_str(), label.as_str()))
        .collect()
}

fn number_field(
    constraint: &Constraint,
    (min, max, unit): (i64, i64, &str),
    field: &str,
    errors: &FieldErrors,
    focus: Option<&str>,
) -> Markup {
    let key = constraint.kind.key;
    let messages = errors.on(field);
    html! {
        div.field {
            label for=(field) { (constraint.kind.label) " (" (min) " to " (max) " " (unit) ")" }
            input id=(field) type="text" inputmode="numeric" name={ (key) ".value" } value=(constraint.number)
                autofocus[focus == Some(field)]
                aria-invalid=[(!messages.is_empty()).then_some("true")]
                aria-describedby=[described_by(field, &messages)];
            (field_errors(field, &messages))
        }
    }
}

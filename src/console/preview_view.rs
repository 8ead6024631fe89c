//! What a change would do, drawn from the API's preview answer: the existing codespaces it
//! would newly refuse, and the recent decisions it would turn.

use maud::{html, Markup};
use serde_json::Value;

use super::items;

/// Entries shown of each list; the counts say how many there are in all.
const SHOWN: usize = 20;

pub fn preview(answer: &Value, heading: &str) -> Markup {
    let codespaces = &answer["codespaces"];
    let decisions = &answer["decisions"];
    let count = |v: &Value, key: &str| v[key].as_i64().unwrap_or(0);
    html! {
        section.preview aria-labelledby="preview-heading" tabindex="-1" #preview {
            h2 #preview-heading { (heading) }
            p {
                "Of " (count(codespaces, "checked")) " existing codespaces, "
                strong { (count(codespaces, "newly_refused_count")) } " would be refused at their next full rebuild."
            }
            (entries(&codespaces["newly_refused"], "Codespaces newly refused"))
            p {
                "Of " (count(decisions, "checked")) " decisions of the last 30 days, "
                strong { (count(decisions, "newly_refused_count")) } " would now be refused and "
                strong { (count(decisions, "newly_allowed_count")) } " would now be allowed."
            }
            (entries(&decisions["newly_refused"], "Decisions newly refused"))
            (entries(&decisions["newly_allowed"], "Decisions newly allowed"))
            p.help { "Nothing has been saved." }
        }
    }
}

fn entries(list: &Value, caption: &str) -> Markup {
    let items = items(list);
    html! {
        @if !items.is_empty() {
            table {
                caption { (caption) }
                thead { tr { th scope="col" { "Repository" } th scope="col" { "User" } th scope="col" { "Image" } } }
                tbody {
                    @for item in items.iter().take(SHOWN) {
                        tr {
                            td { (item["repository"].as_str().unwrap_or_default()) }
                            td { (item["user"].as_str().unwrap_or_default()) }
                            td { code { (item["image"].as_str().unwrap_or_default()) } }
                        }
                    }
                }
            }
        }
    }
}

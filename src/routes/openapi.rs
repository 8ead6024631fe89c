//! What the handlers' annotations leave implicit, made explicit in the document once for
//! every operation: response descriptions, the 415 of every JSON body, and the grammar of
//! the path parameters.

use std::collections::BTreeSet;

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// Org, repository and user names.
pub const NAME_PATTERN: &str = "^[A-Za-z0-9._-]{1,100}$";
/// GitHub Container Registry package names: OCI repository path components joined by `/`
/// (at most 255 characters in all; a `/` travels percent-encoded in the path, `%2F`).
pub const PACKAGE_NAME_PATTERN: &str =
    "^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$";
/// `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]{1,255}$";
/// Codespace ids: `cs_` and a ULID.
pub const CODESPACE_ID_PATTERN: &str = "^cs_[0-9A-Z]{26}$";

pub fn finish(openapi: &mut OpenApi) {
    add_links(openapi);
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            describe_responses(operation);
            if operation.request_body.is_some() {
                add_unsupported_media_type(operation);
            }
            constrain_path_parameters(operation);
        }
    }
}

/// OpenAPI requires a description on every response; where a handler gives none, the
/// status code's reason phrase serves.
fn describe_responses(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            if response.description.is_empty() {
                response.description = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
                    .and_then(|code| code.canonical_reason())
                    .unwrap_or("Response")
                    .to_string();
            }
        }
    }
}

/// A body without `Content-Type: application/json` answers 415.
fn add_unsupported_media_type(operation: &mut Operation) {
    let response = ResponseBuilder::new()
        .description("Unsupported Media Type: the body must be `application/json`")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    operation
        .responses
        .responses
        .entry("415".to_string())
        .or_insert(RefOr::T(response));
}

fn constrain_path_parameters(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        let schema = match (&parameter.parameter_in, parameter.name.as_str()) {
            // Optional headers: absent, or a string (never null). Any If-Match but one of
            // our ETags fails the precondition (412).
            (ParameterIn::Header, "If-Match") => ObjectBuilder::new().schema_type(Type::String),
            (ParameterIn::Header, "Idempotency-Key") => ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(IDEMPOTENCY_KEY_PATTERN))
                .min_length(Some(1))
                .max_length(Some(255)),
            (ParameterIn::Path, _) => match parameter.name.as_str() {
                "org" | "repo" | "username" => ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(NAME_PATTERN))
                    .min_length(Some(1))
                    .max_length(Some(100)),
                "package_name" => ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(PACKAGE_NAME_PATTERN))
                    .min_length(Some(1))
                    .max_length(Some(255)),
                "id" => ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(CODESPACE_ID_PATTERN)),
                "policy_id" | "revision" => ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int64,
                    )))
                    .minimum(Some(1)),
                _ => continue,
            },
            _ => continue,
        };
        parameter.schema = Some(RefOr::T(schema.into()));
    }
}

/// Path parameters a successful answer gives values for: (operation id, status, parameter,
/// where its value is in the answer).
const CREATED_VALUES: [(&str, &str, &str, &str); 3] = [
    ("create_org", "201", "org", "$response.body#/login"),
    ("create_policy", "201", "policy_id", "$response.body#/id"),
    ("create_codespace", "201", "id", "$response.body#/id"),
];

fn path_parameters(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_string)
        .collect()
}

/// Links from each creating operation to the operations that use what it created, and from
/// a `PUT` to the other operations on the same path, so that clients and stateful fuzzers
/// can follow them.
fn add_links(openapi: &mut OpenApi) {
    let targets: Vec<(String, String)> = openapi
        .paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .into_iter()
                .flatten()
                .filter_map(|op| Some((path.clone(), op.operation_id.clone()?)))
                .collect::<Vec<_>>()
        })
        .collect();
    for (path, item) in openapi.paths.paths.iter_mut() {
        for (method, operation) in [
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
        ] {
            let Some(operation) = operation else { continue };
            let Some(source) = operation.operation_id.clone() else {
                continue;
            };
            let from_request = path_parameters(path);
            let created = CREATED_VALUES.iter().find(|(id, ..)| *id == source);
            let status = created.map_or("200", |(_, status, ..)| status);
            let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) else {
                continue;
            };
            for (target_path, target_id) in &targets {
                if *target_id == source {
                    continue;
                }
                let needed = path_parameters(target_path);
                let linked = match created {
                    Some((_, _, param, _)) => needed.contains(*param),
                    None => method == HttpMethod::Put && target_path == path,
                };
                let satisfiable = needed.iter().all(|p| {
                    from_request.contains(p) || created.is_some_and(|(_, _, c, _)| c == p)
                });
                if !linked || !satisfiable {
                    continue;
                }
                let mut link = LinkBuilder::new().operation_id(target_id.clone());
                for parameter in &needed {
                    let value = match created {
                        Some((_, _, param, value)) if param == parameter => value.to_string(),
                        _ => format!("$request.path.{parameter}"),
                    };
                    link = link.parameter(parameter.clone(), value);
                }
                response
                    .links
                    .insert(target_id.clone(), RefOr::T(link.build()));
            }
        }
    }
}

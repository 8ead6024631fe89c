//! Registry hosts: which registry an image reference is on, and whether a
//! `P_CONTAINER_REGISTRY_SERVER` value names that registry.
//!
//! A server value is written by people in many forms (`https://index.docker.io/v1/`,
//! `GHCR.IO`, `registry.example.com:5000/`), so both sides are reduced to a lower-cased
//! `host[:port]` before comparing, and every Docker Hub alias to [`DOCKER_HUB`].

use crate::policy::ImageRef;

/// The name Docker Hub is reported and compared under.
pub const DOCKER_HUB: &str = "docker.io";

/// Hosts that all mean Docker Hub, as Docker's own client treats them.
const DOCKER_HUB_ALIASES: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// Whether the server value of a `_SERVER` secret names the registry `image_host` (as
/// [`image_registry`] gives it; an empty host means Docker Hub).
///
/// Ports are compared as written: `ghcr.io:443` and `ghcr.io` are different servers,
/// because nothing here can know which port a registry actually serves on.
pub fn same_registry(server_value: &str, image_host: &str) -> bool {
    let server = canonical_host(server_value);
    // A blank server value names no registry, so it must not match the Docker Hub default.
    if server.is_empty() {
        return false;
    }
    let image_host = if image_host.trim().is_empty() {
        DOCKER_HUB.to_owned()
    } else {
        canonical_host(image_host)
    };
    server == image_host
}

/// The registry an image reference is on: [`DOCKER_HUB`] for Docker Hub, else the
/// lower-cased `host[:port]`.
///
/// Follows the OCI/Docker rule: the first path component is a registry host only if it
/// contains a `.` or a `:` or is `localhost`; otherwise the image is on Docker Hub.
pub fn image_registry(image: &str) -> String {
    // Cut the digest first: its `algorithm:hex` holds a ':' that is not a port.
    let name = image.split('@').next().unwrap_or(image);
    match name.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => {
            canonical_host(first)
        }
        _ => DOCKER_HUB.to_owned(),
    }
}

/// [`image_registry`] of a parsed reference.
pub fn registry_of(image: &ImageRef) -> String {
    image_registry(image.as_str())
}

/// Reduces a server value or host to a lower-cased `host[:port]`, Docker Hub aliases to
/// [`DOCKER_HUB`]; empty when nothing is left.
pub fn canonical_host(value: &str) -> String {
    let value = value.trim();
    let without_scheme = value.split_once("://").map_or(value, |(_, rest)| rest);
    let authority = without_scheme.split('/').next().unwrap_or_default();
    // `user@host` names the same host: the user part is not where the registry is.
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        DOCKER_HUB.to_owned()
    } else {
        host
    }
}

//! Tests of the machine catalog: GitHub's default machines and reading a configured one.

use super::*;

fn parse(text: &str) -> Result<MachineCatalog, CatalogError> {
    MachineCatalog::from_json("MACHINE_CATALOG", text)
}

fn error_field(text: &str) -> String {
    parse(text).unwrap_err().field
}

const ONE: &str = r#"{"name": "tiny", "display_name": "1 core", "cpus": 1,
    "memory_in_bytes": 1073741824, "storage_in_bytes": 8589934592}"#;

#[test]
fn the_default_catalog_is_githubs_five_linux_machines_smallest_first() {
    let catalog = MachineCatalog::default();
    let sizes: Vec<(&str, u32, u64, u64)> = catalog
        .machines()
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.cpus,
                m.memory_in_bytes / GIB,
                m.storage_in_bytes / GIB,
            )
        })
        .collect();
    assert_eq!(
        sizes,
        vec![
            ("basicLinux32gb", 2, 8, 32),
            ("standardLinux32gb", 4, 16, 32),
            ("premiumLinux", 8, 32, 64),
            ("largePremiumLinux", 16, 64, 128),
            ("xLargePremiumLinux", 32, 128, 256),
        ]
    );
    assert_eq!(
        catalog.machines()[0].display_name,
        "2 cores, 8 GB RAM, 32 GB storage"
    );
    assert_eq!(catalog.machines()[0].memory_in_bytes, 8_589_934_592);
    assert_eq!(catalog.names()[4], "xLargePremiumLinux");
}

#[test]
fn machines_are_found_by_name_regardless_of_case() {
    let catalog = MachineCatalog::default();
    assert_eq!(catalog.get("premiumLinux").unwrap().cpus, 8);
    assert_eq!(catalog.get("PREMIUMLINUX").unwrap().name, "premiumLinux");
    assert!(catalog.get("premiumLinux2").is_none());
    assert!(catalog.get("").is_none());
}

#[test]
fn a_configured_catalog_is_read_and_sorted_smallest_first() {
    let text = format!(
        r#"[{{"name": "big", "display_name": "Big", "cpus": 64,
             "memory_in_bytes": 1, "storage_in_bytes": 1}},
            {ONE},
            {{"name": "tiny-b", "display_name": "1 core too", "cpus": 1,
             "memory_in_bytes": 1073741824, "storage_in_bytes": 8589934592}}]"#
    );
    let catalog = parse(&text).unwrap();
    assert_eq!(catalog.names(), vec!["tiny", "tiny-b", "big"]);
    assert_eq!(catalog.get("tiny").unwrap().display_name, "1 core");
    assert_eq!(catalog.get("big").unwrap().cpus, 64);
}

#[test]
fn a_catalog_that_is_not_a_non_empty_array_is_refused() {
    for text in ["", "{", "{}", "null", "[]", r#""basicLinux32gb""#] {
        assert_eq!(error_field(text), "MACHINE_CATALOG", "{text}");
    }
    let many = format!("[{}]", vec![ONE; MAX_CATALOG_MACHINES + 1].join(","));
    let err = parse(&many).unwrap_err();
    assert_eq!(err.field, "MACHINE_CATALOG");
    assert!(err.message.contains("at most 100"), "{}", err.message);
    assert!(err.to_string().starts_with("MACHINE_CATALOG "));
}

#[test]
fn every_bad_machine_field_is_named_with_its_index() {
    let cases = [
        (r#"[1]"#, "MACHINE_CATALOG[0]"),
        (
            r#"[{"display_name": "x", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].name",
        ),
        (
            r#"[{"name": 7, "display_name": "x", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].name",
        ),
        (
            r#"[{"name": "a b", "display_name": "x", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].name",
        ),
        (
            r#"[{"name": "", "display_name": "x", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].name",
        ),
        (
            r#"[{"name": "a", "display_name": " ", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].display_name",
        ),
        (
            r#"[{"name": "a", "display_name": "x\u0007", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].display_name",
        ),
        (
            r#"[{"name": "a", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].display_name",
        ),
        (
            r#"[{"name": "a", "display_name": "x", "cpus": 0, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].cpus",
        ),
        (
            r#"[{"name": "a", "display_name": "x", "cpus": 4294967296, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].cpus",
        ),
        (
            r#"[{"name": "a", "display_name": "x", "cpus": 2.5, "memory_in_bytes": 1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].cpus",
        ),
        (
            r#"[{"name": "a", "display_name": "x", "cpus": 1, "memory_in_bytes": -1, "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].memory_in_bytes",
        ),
        (
            r#"[{"name": "a", "display_name": "x", "cpus": 1, "memory_in_bytes": "8gb", "storage_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].memory_in_bytes",
        ),
        (
            r#"[{"name": "a", "display_name": "x", "cpus": 1, "memory_in_bytes": 1}]"#,
            "MACHINE_CATALOG[0].storage_in_bytes",
        ),
        (
            r#"[{"name": "a", "display_name": "x", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 0}]"#,
            "MACHINE_CATALOG[0].storage_in_bytes",
        ),
        (
            r#"[{"name": "a", "display_name": "x", "cpus": 1, "memory_in_bytes": 1, "storage_in_bytes": 1, "gpus": 1}]"#,
            "MACHINE_CATALOG[0].gpus",
        ),
    ];
    for (text, field) in cases {
        assert_eq!(error_field(text), field, "{text}");
    }
}

#[test]
fn a_name_listed_twice_in_any_case_is_refused_at_the_second() {
    let text = format!(
        r#"[{ONE}, {{"name": "TINY", "display_name": "x", "cpus": 1,
           "memory_in_bytes": 1, "storage_in_bytes": 1}}]"#
    );
    let err = parse(&text).unwrap_err();
    assert_eq!(err.field, "MACHINE_CATALOG[1].name");
    assert!(
        err.message.contains("'TINY' is listed twice"),
        "{}",
        err.message
    );
}

#[test]
fn machine_names_follow_the_documented_pattern() {
    assert!(is_machine_name("basicLinux32gb"));
    assert!(is_machine_name("a_b-C9"));
    assert!(is_machine_name(&"a".repeat(64)));
    assert!(!is_machine_name(&"a".repeat(65)));
    for bad in ["", "a.b", "a/b", "a b", "é", "a\n"] {
        assert!(!is_machine_name(bad), "{bad:?}");
    }
}

#[test]
fn a_machine_serializes_in_githubs_field_names() {
    let catalog = MachineCatalog::default();
    let machine = &catalog.machines()[1];
    let json = serde_json::to_value(machine).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "standardLinux32gb",
            "display_name": "4 cores, 16 GB RAM, 32 GB storage",
            "cpus": 4,
            "memory_in_bytes": 17_179_869_184u64,
            "storage_in_bytes": 34_359_738_368u64,
        })
    );
}

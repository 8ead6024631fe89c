//! Tests of reading `hostRequirements` and of choosing the smallest machine meeting it.

use serde_json::json;

use super::*;
use crate::machines::{MachineCatalog, GIB};

fn parse(value: Value) -> Result<HostRequirements, HostRequirementsError> {
    HostRequirements::parse(&value)
}

fn field_of(value: Value) -> String {
    parse(value).unwrap_err().field
}

fn chosen(requirements: Value) -> Option<String> {
    let catalog = MachineCatalog::default();
    let requirements = parse(requirements).unwrap();
    choose_machine(catalog.machines(), &requirements).map(|m| m.name.clone())
}

#[test]
fn the_specifications_forms_are_read_into_minimums() {
    let read = parse(json!({"cpus": 4, "memory": "8gb", "storage": "1tb"})).unwrap();
    assert_eq!(read.cpus, Some(4));
    assert_eq!(read.memory_in_bytes, Some(8 * GIB));
    assert_eq!(read.storage_in_bytes, Some(1024 * GIB));
    assert_eq!(read.gpu, GpuRequirement::NotRequired);

    let units = [
        ("512", 512),
        ("0", 0),
        ("2kb", 2048),
        ("512mb", 512 << 20),
        ("3gb", 3 << 30),
        ("2tb", 2 << 40),
        ("08gb", 8 << 30),
    ];
    for (text, bytes) in units {
        let read = parse(json!({ "memory": text })).unwrap();
        assert_eq!(read.memory_in_bytes, Some(bytes), "{text}");
    }
    assert_eq!(parse(json!({"cpus": 8.0})).unwrap().cpus, Some(8));
}

#[test]
fn absent_or_empty_requirements_ask_nothing() {
    let config = json!({"image": "node:18"});
    let none = HostRequirements::from_config(config.as_object().unwrap()).unwrap();
    assert_eq!(none, HostRequirements::default());
    assert!(none.is_empty());
    assert!(parse(json!({})).unwrap().is_empty());
    assert!(parse(json!({"gpu": "optional"})).unwrap().is_empty());
    assert!(!parse(json!({"gpu": true})).unwrap().is_empty());
    assert!(!parse(json!({"cpus": 1})).unwrap().is_empty());

    let config = json!({"hostRequirements": {"cpus": 2}});
    let read = HostRequirements::from_config(config.as_object().unwrap()).unwrap();
    assert_eq!(read.cpus, Some(2));
}

#[test]
fn unknown_keys_are_ignored_as_the_specification_leaves_them_open() {
    let read = parse(json!({"cpus": 2, "architecture": "arm64", "Memory": "x"})).unwrap();
    assert_eq!(read.cpus, Some(2));
    assert_eq!(read.memory_in_bytes, None);
}

#[test]
fn sizes_that_cannot_be_read_are_refused_naming_the_field() {
    for bad in [
        json!("8 gigs"),
        json!("8GB"),
        json!("8g"),
        json!("8 gb"),
        json!(" 8gb"),
        json!("gb"),
        json!(""),
        json!("-8gb"),
        json!("8.5gb"),
        json!("8pb"),
        json!(8),
        json!(null),
    ] {
        let err = parse(json!({ "memory": bad.clone() })).unwrap_err();
        assert_eq!(err.field, "hostRequirements.memory", "{bad}");
        assert!(err.message.contains("\"8gb\""), "{}", err.message);
        assert_eq!(
            field_of(json!({ "storage": bad.clone() })),
            "hostRequirements.storage"
        );
    }
    let err = parse(json!({"storage": "99999999999tb"})).unwrap_err();
    assert_eq!(err.field, "hostRequirements.storage");
    assert_eq!(err.message, "is too large");
    assert_eq!(
        field_of(json!({"memory": "99999999999999999999999"})),
        "hostRequirements.memory"
    );
}

#[test]
fn cpus_must_be_a_positive_integer() {
    let cases = [
        (json!(0), "must be at least 1"),
        (json!(-2), "must be a positive integer"),
        (json!(2.5), "must be a positive integer"),
        (json!("4"), "must be a positive integer"),
        (json!(null), "must be a positive integer"),
        (json!(true), "must be a positive integer"),
        (json!(4_294_967_296u64), "is too large"),
    ];
    for (bad, message) in cases {
        let err = parse(json!({ "cpus": bad.clone() })).unwrap_err();
        assert_eq!(err.field, "hostRequirements.cpus", "{bad}");
        assert_eq!(err.message, message, "{bad}");
    }
}

#[test]
fn requirements_that_are_not_an_object_are_refused() {
    for bad in [json!(null), json!([]), json!("4 cpus"), json!(4)] {
        assert_eq!(field_of(bad), "hostRequirements");
    }
    let config = json!({"hostRequirements": "big"});
    let err = HostRequirements::from_config(config.as_object().unwrap()).unwrap_err();
    assert_eq!(err.to_string(), "hostRequirements must be an object");
}

#[test]
fn gpu_takes_each_form_of_the_specification() {
    let gpu = |v: Value| parse(json!({ "gpu": v })).map(|r| r.gpu);
    assert_eq!(gpu(json!(false)).unwrap(), GpuRequirement::NotRequired);
    assert_eq!(gpu(json!("optional")).unwrap(), GpuRequirement::Optional);
    let required = GpuRequirement::Required {
        cores: None,
        memory_in_bytes: None,
    };
    assert_eq!(gpu(json!(true)).unwrap(), required);
    assert_eq!(gpu(json!({})).unwrap(), required);
    assert_eq!(
        gpu(json!({"cores": 2, "memory": "8gb"})).unwrap(),
        GpuRequirement::Required {
            cores: Some(2),
            memory_in_bytes: Some(8 * GIB)
        }
    );
    for (bad, field) in [
        (json!("required"), "hostRequirements.gpu"),
        (json!(1), "hostRequirements.gpu"),
        (json!(null), "hostRequirements.gpu"),
        (json!({"cores": 0}), "hostRequirements.gpu.cores"),
        (json!({"memory": "8 gigs"}), "hostRequirements.gpu.memory"),
        (json!({"vendor": "nvidia"}), "hostRequirements.gpu.vendor"),
    ] {
        assert_eq!(gpu(bad.clone()).unwrap_err().field, field, "{bad}");
    }
}

#[test]
fn the_smallest_machine_meeting_every_minimum_is_chosen() {
    assert_eq!(chosen(json!({})).as_deref(), Some("basicLinux32gb"));
    assert_eq!(
        chosen(json!({"cpus": 2})).as_deref(),
        Some("basicLinux32gb")
    );
    assert_eq!(
        chosen(json!({"cpus": 3})).as_deref(),
        Some("standardLinux32gb")
    );
    assert_eq!(
        chosen(json!({"memory": "8gb"})).as_deref(),
        Some("basicLinux32gb")
    );
    assert_eq!(
        chosen(json!({"memory": "8193mb"})).as_deref(),
        Some("standardLinux32gb")
    );
    assert_eq!(
        chosen(json!({"storage": "64gb"})).as_deref(),
        Some("premiumLinux")
    );
    assert_eq!(
        chosen(json!({"cpus": 4, "memory": "8gb", "storage": "100gb"})).as_deref(),
        Some("largePremiumLinux")
    );
    assert_eq!(
        chosen(json!({"gpu": "optional", "cpus": 32})).as_deref(),
        Some("xLargePremiumLinux")
    );
}

#[test]
fn no_machine_is_chosen_when_none_meets_the_requirements() {
    assert_eq!(chosen(json!({"cpus": 64})), None);
    assert_eq!(chosen(json!({"memory": "1tb"})), None);
    // The catalog has no GPU machines.
    assert_eq!(chosen(json!({"gpu": true})), None);
    assert_eq!(chosen(json!({"gpu": {"cores": 1}})), None);
    let none: [&Machine; 0] = [];
    assert!(choose_machine(none, &HostRequirements::default()).is_none());
}

#[test]
fn ties_in_size_are_broken_by_name_whatever_the_order_given() {
    let machine = |name: &str, cpus: u32, memory: u64, storage: u64| Machine {
        name: name.to_owned(),
        display_name: name.to_owned(),
        cpus,
        memory_in_bytes: memory,
        storage_in_bytes: storage,
    };
    let machines = [
        machine("b", 4, 8, 8),
        machine("a", 4, 8, 8),
        machine("more-memory", 4, 9, 1),
        machine("more-storage", 4, 8, 9),
        machine("fewer-cpus-more-everything", 2, 99, 99),
    ];
    let pick = |r: HostRequirements| choose_machine(&machines, &r).map(|m| m.name.as_str());
    assert_eq!(
        pick(HostRequirements::default()),
        Some("fewer-cpus-more-everything")
    );
    let four = HostRequirements {
        cpus: Some(4),
        ..Default::default()
    };
    assert_eq!(pick(four.clone()), Some("a"));
    let reversed: Vec<&Machine> = machines.iter().rev().collect();
    assert_eq!(
        choose_machine(reversed, &four).map(|m| m.name.as_str()),
        Some("a")
    );
    let storage = HostRequirements {
        cpus: Some(4),
        storage_in_bytes: Some(9),
        ..Default::default()
    };
    assert_eq!(pick(storage), Some("more-storage"));
}

#[test]
fn requirements_describe_themselves_for_messages() {
    let read = parse(json!({"cpus": 4, "memory": "8192mb", "storage": "1536mb", "gpu": true}));
    assert_eq!(
        read.unwrap().to_string(),
        "4 cpus, 8gb memory, 1536mb storage, a GPU"
    );
    assert_eq!(
        parse(json!({"memory": "1000"})).unwrap().to_string(),
        "1000 bytes memory"
    );
    assert_eq!(HostRequirements::default().to_string(), "no requirements");
}

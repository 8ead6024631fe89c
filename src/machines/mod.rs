//! Machine types: the catalog a codespace's machine is chosen from, and the dev container
//! configuration's `hostRequirements` that narrow the choice.
//!
//! Pure, like the policy module: the caller reads the configuration and the environment,
//! and policies decide which of these machines a repository may use.

mod catalog;
mod host_requirements;

pub use catalog::{
    is_machine_name, CatalogError, Machine, MachineCatalog, GIB, MAX_CATALOG_MACHINES,
    MAX_DISPLAY_NAME_LEN, MAX_MACHINE_NAME_LEN,
};
pub use host_requirements::{
    choose_machine, GpuRequirement, HostRequirements, HostRequirementsError,
    FIELD as HOST_REQUIREMENTS,
};

//! The one integration-test binary: every suite is a module here, so the
//! test build links once.
//!
//! Fixtures live under `tests/fixtures/`, insta snapshots under
//! `tests/snapshots/`.

mod cli_workflow;
mod common;
mod engine_allocation;
mod engine_props;
mod engine_rules;
mod explain;
mod fmt;
mod gitops;
mod manifest_equivalence;
mod manifest_fixtures;
mod manifest_fuzz;
mod plan_render;
mod provider_contract;
mod safety_concurrency;
mod safety_files;
mod schema_fresh;
mod workflows;

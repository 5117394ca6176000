//! The one integration-test binary: every suite is a module here, so the
//! test build links once.
//!
//! Fixtures live under `tests/fixtures/`, insta snapshots under
//! `tests/snapshots/`.

mod common;
mod engine_allocation;
mod engine_props;
mod engine_rules;
mod manifest_equivalence;
mod manifest_fixtures;
mod provider_contract;
mod manifest_fuzz;
mod schema_fresh;
mod gitops;
mod workflows;
mod plan_render;
mod cli_workflow;
mod fmt;

//! The one integration-test binary: every suite is a module here, so the
//! test build links once.
//!
//! Fixtures live under `tests/fixtures/`, insta snapshots under
//! `tests/snapshots/`.

mod action;
mod apply_paced;
mod ci_federation;
mod ci_reviewed;
mod cli_workflow;
mod common;
mod directory_guard;
mod emulator_delta;
mod emulator_limits;
mod engine_allocation;
mod engine_props;
mod engine_rules;
mod explain;
mod fmt;
mod gitops;
mod graph_equals_file;
mod graph_lookups;
mod import;
mod journal;
mod licensing;
mod manifest_equivalence;
mod manifest_fixtures;
mod manifest_fuzz;
mod manifest_limits;
mod override_expiry;
mod plan_redact;
mod plan_render;
mod provider_contract;
mod purity;
mod quarantine;
mod release;
mod revert;
mod rule_tests;
mod safety_concurrency;
mod safety_emulator;
mod safety_files;
mod safety_interrupt;
mod safety_snapshot_input;
mod safety_tamper;
mod safety_transport;
mod schema_fresh;
mod state_concurrency;
mod state_store;
mod watch;
mod workflows;

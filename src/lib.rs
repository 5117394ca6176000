//! roster: Microsoft Teams provisioning as code.
//!
//! Personas, number ranges and first-match rules are written as KDL or TOML
//! manifests ([`manifest`]). A provider ([`provider`]) reads the live tenant
//! into a [`live::LiveState`]; [`desired::compute`] decides what every user
//! should have (rules in [`rules`], numbers in [`numbers`]); [`plan::diff`]
//! turns desired versus live into a [`plan::Plan`] that renders as text,
//! Markdown or JSON; [`apply`] executes it in a safe order.
//!
//! The middle (manifest model, rules, allocation, desired state, diff,
//! render, schedule) is pure: no network, file system, git or clock. I/O
//! lives at the edges: loading files, providers, the executor, the CLI.

pub mod apply;
pub mod catalog;
pub mod cli;
pub mod config_dir;
pub mod desired;
pub mod emulator;
pub mod explain;
pub mod files;
pub mod format;
pub mod gitops;
pub mod import;
pub mod issue;
pub mod licensing;
pub mod live;
pub mod manifest;
pub mod numbers;
pub mod plan;
pub mod provider;
pub mod redact;
pub mod rules;
pub mod ruletest;
pub mod snapshot;
pub mod state;

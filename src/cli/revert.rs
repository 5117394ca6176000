//! `roster revert APPLY-ID`: a plan that puts the users an apply changed
//! back to their state before it, as far as the live tenant still matches
//! the state the apply left (the others are conflicts, left alone). The
//! plan is saved and applied like any plan; `apply` checks it against the
//! journal and the live tenant again ([`revert_now`]), never against the
//! manifests. The computation itself is [`crate::apply::revert`].

use std::path::PathBuf;

use clap::Args;

use super::plan::{load_config, meta, now, save_and_print};
use super::state::{context, state_dir};
use super::{Failure, Global, Result, guard_output};
use crate::live::LiveState;
use crate::manifest::Loaded;
use crate::plan::render::{Format, REVERT_NOTE};
use crate::plan::{GitInfo, Plan};
use crate::state::journal::Entry;

#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The id of the apply to undo (`roster history` lists them); a unique
    /// beginning of it will do.
    #[arg(value_name = "APPLY-ID")]
    pub apply: String,
    /// Revert only these users (UPN or object id); repeatable.
    #[arg(long = "user", value_name = "UPN")]
    pub users: Vec<String>,
    /// Save the revert plan as JSON, for `roster apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Hide `names`, `numbers` or `names,numbers` in what is shown (as
    /// `plan --redact`).
    #[arg(long, value_name = "WHAT", value_parser = crate::plan::redact::Redact::parse, default_value = "")]
    pub redact: crate::plan::redact::Redact,
}

pub fn revert(g: &Global, args: &RevertArgs) -> Result<u8> {
    let (loaded, git) = load_config(g, None)?;
    if let Some(out) = &args.out {
        guard_output(g, &loaded, out, "the plan")?;
    }
    let entry = find_entry(g, &args.apply)?;
    let mut provider = super::open_provider(g, &loaded)?;
    provider.resolve_policies(&crate::apply::revert::policies(&entry));
    let live = provider.fetch()?;
    let plan = revert_now(
        g,
        &loaded,
        &live,
        &entry,
        provider.kind(),
        &args.users,
        git,
        now(),
    )?;
    save_and_print(
        &plan,
        args.out.as_deref(),
        "revert plan",
        args.format,
        args.redact,
    )?;
    if args.format == Format::Json {
        eprintln!("{REVERT_NOTE}");
    }
    Ok(0)
}

/// The journal entry of the apply `id` (or the one apply whose id begins
/// with it).
pub fn find_entry(g: &Global, id: &str) -> Result<Entry> {
    let state = state_dir(g)?;
    let entries = state.journal()?;
    let id = id.trim();
    let matching: Vec<&Entry> = entries
        .iter()
        .filter(|e| !id.is_empty() && e.id.to_lowercase().starts_with(&id.to_lowercase()))
        .collect();
    let exact = matching.iter().find(|e| e.id.eq_ignore_ascii_case(id));
    match (exact, matching.as_slice()) {
        (Some(e), _) | (None, [e]) => Ok((*e).clone()),
        (None, []) => Err(Failure::new(format!(
            "no apply `{id}` in the journal of {}\nhint: `roster history` lists the applies and their ids",
            state.name()
        ))),
        (None, many) => Err(Failure::new(format!(
            "`{id}` is the beginning of {} apply ids ({})\nhint: give more of the id (`roster history` lists them)",
            many.len(),
            many.iter()
                .map(|e| format!("`{}`", e.id))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The revert of `entry` now: from the journal entry, the live tenant and
/// the quarantine (the manifests give only the users in scope, for the
/// safety percentage, and the ranges, for a restored number's type).
#[allow(clippy::too_many_arguments)]
pub fn revert_now(
    g: &Global,
    loaded: &Loaded,
    live: &LiveState,
    entry: &Entry,
    provider: &str,
    users: &[String],
    git: Option<GitInfo>,
    created_at: String,
) -> Result<Plan> {
    let settings = loaded.manifest.settings();
    if !entry.tenant.name.eq_ignore_ascii_case(&settings.name) {
        return Err(Failure::new(format!(
            "apply `{}` was made on tenant `{}`, but this config is tenant `{}`\nhint: run `roster revert` with the config of that tenant",
            entry.id, entry.tenant.name, settings.name
        )));
    }
    // The tenant first, then the quarantine (as for any plan).
    let ctx = context(g)?;
    let users_in_scope = crate::desired::compute_with(&loaded.manifest, live, &ctx).in_scope;
    let inputs = crate::apply::revert::Inputs {
        entry,
        live,
        held_back: ctx.quarantine(&loaded.manifest),
        ranges: &loaded.manifest.ranges,
        users_in_scope,
    };
    let meta = meta(loaded, provider, users, git, created_at);
    Ok(crate::apply::revert::revert(&inputs, meta)?)
}

//! The one gate every plan passes before `apply` (and `reconcile`'s apply)
//! may write: a typed [`Refusal`] for each reason a plan must not be
//! applied. Pure: the caller fetches, this module only decides.
//!
//! A saved plan must come from this config and tenant ([`check_origin`]),
//! its users must still be as they were when it was made, and it must be
//! what roster plans for them now ([`check_live`]; a revert plan: what the
//! journal says, [`check_revert`]),
//! and any plan must be free of errors and within the safety limits unless
//! forced ([`check_ready`]).

use std::collections::{HashMap, HashSet};

use crate::live::{LiveState, User};
use crate::manifest::{Manifest, Safety};
use crate::plan::fingerprint::fingerprint;
use crate::plan::safety::{self, Violation};
use crate::plan::{Action, Change, Plan};

/// Why a plan is not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The manifests are not the ones the plan was made from.
    ManifestsChanged { planned: String, now: String },
    /// The plan was made for another tenant or provider.
    OtherTenant {
        planned_tenant: String,
        planned_provider: String,
        tenant: String,
        provider: String,
    },
    /// These users (UPNs) changed since the plan was made: their
    /// assignments or numbers, or a number the plan gives them was taken.
    Stale { users: Vec<String> },
    /// The plan is not what roster would plan now from its manifests and
    /// the live tenant: (user or `summary`, what differs).
    Edited { differences: Vec<(String, String)> },
    /// A revert plan that is not the revert of its apply roster computes
    /// now from the journal and the live tenant: (user or `summary`, what
    /// differs).
    NotTheRevert {
        apply: String,
        differences: Vec<(String, String)>,
    },
    /// Changes that were not in the reviewed plan and are not drift:
    /// (user, what differs).
    Unreviewed { differences: Vec<(String, String)> },
    /// The directory looks broken compared with the last apply (an
    /// attribute the rules use emptied, the scope shrank): what and by how
    /// much.
    DirectoryLooksBroken { findings: Vec<String> },
    /// The plan has errors.
    Errors { count: usize, first: String },
    /// The plan changes more users than the safety limits allow.
    Unsafe(Violation),
}

impl Refusal {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Refusal::ManifestsChanged { .. } | Refusal::Stale { .. } => {
                "run `roster plan --out FILE` again and review it"
            }
            Refusal::OtherTenant { .. } => "apply the plan with the config it was made from",
            Refusal::Edited { .. } => {
                "a saved plan must not be edited: run `roster plan --out FILE` again and review that plan"
            }
            Refusal::NotTheRevert { .. } => {
                "a saved revert plan must not be edited: run `roster revert APPLY-ID --out FILE` again and review that plan"
            }
            Refusal::Unreviewed { .. } => {
                "let the pull request's plan run again on the current tenant and review it, or apply with `--force` after reviewing these changes"
            }
            Refusal::DirectoryLooksBroken { .. } => {
                "check the directory (a broken HR feed?) before letting the rules act on it; if the change is real, apply with `--force`, or raise the limits in `safety`"
            }
            Refusal::Errors { .. } => "fix them and plan again",
            Refusal::Unsafe(_) => {
                "review the plan; if it is right, apply with `--force`, or raise `safety` in the tenant settings"
            }
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::ManifestsChanged { planned, now } => write!(
                f,
                "the manifests changed since the plan was made (plan {}, now {})",
                short(planned),
                short(now)
            ),
            Refusal::OtherTenant {
                planned_tenant,
                planned_provider,
                tenant,
                provider,
            } => write!(
                f,
                "it was made for tenant `{planned_tenant}` ({planned_provider} provider), but this config is tenant `{tenant}` ({provider} provider)"
            ),
            Refusal::Stale { users } => write!(
                f,
                "the live state of {} user{} changed since the plan was made (their assignments or numbers, or a number the plan gives them was taken): {}",
                users.len(),
                if users.len() == 1 { "" } else { "s" },
                list(users)
            ),
            Refusal::Edited { differences } => write!(
                f,
                "it is not what roster plans now from its manifests and the live tenant ({})",
                listed(differences)
            ),
            Refusal::NotTheRevert { apply, differences } => write!(
                f,
                "it is not the revert of apply `{apply}` that roster computes now from the journal and the live tenant ({})",
                listed(differences)
            ),
            Refusal::Unreviewed { differences } => write!(
                f,
                "{} change{} not in the reviewed plan and not drift: {}",
                differences.len(),
                if differences.len() == 1 { "" } else { "s" },
                differences
                    .iter()
                    .take(20)
                    .map(|(who, why)| format!("`{who}`: {why}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Refusal::DirectoryLooksBroken { findings } => write!(
                f,
                "the directory looks broken since the last apply: {}",
                findings.join("; ")
            ),
            Refusal::Errors { count, first } => write!(
                f,
                "the plan has {count} error{} (first: {first})",
                if *count == 1 { "" } else { "s" }
            ),
            Refusal::Unsafe(v) => write!(f, "over the safety limits: {v}"),
        }
    }
}

/// `N differences: `who`: why; …` (up to 20, then how many more).
fn listed(differences: &[(String, String)]) -> String {
    let shown: Vec<String> = differences
        .iter()
        .take(20)
        .map(|(who, why)| format!("`{who}`: {why}"))
        .collect();
    format!(
        "{} difference{}: {}{}",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" },
        shown.join("; "),
        if differences.len() > 20 {
            format!("; and {} more", differences.len() - 20)
        } else {
            String::new()
        }
    )
}

/// Up to 20 names in backticks, then how many more.
fn list(names: &[String]) -> String {
    let shown = names
        .iter()
        .take(20)
        .map(|u| format!("`{u}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 20 {
        format!("{shown} and {} more", names.len() - 20)
    } else {
        shown
    }
}

fn short(digest: &str) -> &str {
    let d = digest.strip_prefix("sha256:").unwrap_or(digest);
    &d[..d.len().min(12)]
}

/// A saved plan must have been made from these manifests (`digest`), for
/// this tenant and provider.
pub fn check_origin(
    plan: &Plan,
    digest: &str,
    tenant: &str,
    provider: &str,
) -> Result<(), Refusal> {
    if plan.config.digest != digest {
        return Err(Refusal::ManifestsChanged {
            planned: plan.config.digest.clone(),
            now: digest.to_string(),
        });
    }
    check_tenant(plan, tenant, provider)
}

/// A plan must be for this tenant and provider (a revert plan checks only
/// this: it does not depend on the manifests).
pub fn check_tenant(plan: &Plan, tenant: &str, provider: &str) -> Result<(), Refusal> {
    if plan.tenant.name != tenant || plan.tenant.provider != provider {
        return Err(Refusal::OtherTenant {
            planned_tenant: plan.tenant.name.clone(),
            planned_provider: plan.tenant.provider.clone(),
            tenant: tenant.to_string(),
            provider: provider.to_string(),
        });
    }
    Ok(())
}

/// A saved plan's users must still be as they were when it was made, and
/// the plan must be what roster plans for them now (see [`super::verify`]).
pub fn check_live(
    plan: &Plan,
    manifest: &Manifest,
    live: &LiveState,
    ctx: &crate::desired::Context,
) -> Result<(), Refusal> {
    let users = stale_users(plan, live);
    if !users.is_empty() {
        return Err(Refusal::Stale { users });
    }
    super::verify::check_faithful(plan, manifest, live, ctx)
}

/// A saved revert plan's users must still be as they were when it was
/// made, and it must be `fresh`: the revert of its apply as roster
/// computes it now from the journal and the live tenant
/// ([`super::revert::revert`]).
pub fn check_revert(plan: &Plan, fresh: &Plan, live: &LiveState) -> Result<(), Refusal> {
    let users = stale_users(plan, live);
    if !users.is_empty() {
        return Err(Refusal::Stale { users });
    }
    let differences = super::revert::differences(plan, fresh);
    if differences.is_empty() {
        Ok(())
    } else {
        Err(Refusal::NotTheRevert {
            apply: plan.revert_of.clone().unwrap_or_default(),
            differences,
        })
    }
}

/// How the plan to apply compares with the plan a reviewer saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    /// Changes exactly as reviewed.
    pub as_reviewed: usize,
    /// Changes not in the reviewed plan that are drift (pending before the
    /// reviewed revision range): allowed.
    pub drift: Vec<String>,
    /// Changes neither reviewed nor drift: (user, what differs).
    pub unreviewed: Vec<(String, String)>,
    /// Reviewed changes this apply does not make (the tenant moved on).
    pub dropped: Vec<String>,
}

/// Compare the plan about to be applied with the `reviewed` plan (the one
/// the pull request showed). A change is as reviewed when the reviewed plan
/// has the same change for the user (persona, reason and actions; not the
/// fingerprint or cause); a change marked drift is allowed without review.
pub fn review(plan: &Plan, reviewed: &Plan) -> Review {
    let seen: HashMap<&str, &Change> = reviewed
        .changes
        .iter()
        .map(|c| (c.user.id.as_str(), c))
        .collect();
    let mut out = Review::default();
    for c in &plan.changes {
        let who = c.user.upn.clone();
        match seen.get(c.user.id.as_str()) {
            Some(r) if r.persona == c.persona && r.reason == c.reason && r.actions == c.actions => {
                out.as_reviewed += 1
            }
            _ if c.cause == Some(crate::plan::Cause::Drift) => out.drift.push(who),
            Some(_) => out
                .unreviewed
                .push((who, "differs from the reviewed change".into())),
            None => out
                .unreviewed
                .push((who, "was not in the reviewed plan".into())),
        }
    }
    let planned: HashSet<&str> = plan.changes.iter().map(|c| c.user.id.as_str()).collect();
    out.dropped = reviewed
        .changes
        .iter()
        .filter(|c| !planned.contains(c.user.id.as_str()))
        .map(|c| c.user.upn.clone())
        .collect();
    out
}

/// Refuse changes nobody reviewed, unless forced.
pub fn check_reviewed(review: &Review, force: bool) -> Result<(), Refusal> {
    if review.unreviewed.is_empty() || force {
        Ok(())
    } else {
        Err(Refusal::Unreviewed {
            differences: review.unreviewed.clone(),
        })
    }
}

/// Any plan, saved or fresh: no errors, and within the safety limits. Over
/// the limits with `force`, the violation comes back as a warning.
pub fn check_ready(
    plan: &Plan,
    limits: &Safety,
    force: bool,
) -> Result<Option<Violation>, Refusal> {
    if let Some(first) = plan.errors.first() {
        return Err(Refusal::Errors {
            count: plan.errors.len(),
            first: first.message.clone(),
        });
    }
    match safety::check(plan, limits) {
        Ok(()) => Ok(None),
        Err(v) if force => Ok(Some(v)),
        Err(v) => Err(Refusal::Unsafe(v)),
    }
}

/// Users (by UPN) for whom the plan no longer holds: their live state no
/// longer matches the plan's fingerprint, or a number the plan gives them
/// has since been taken by someone the plan does not release it from.
pub fn stale_users(plan: &Plan, live: &LiveState) -> Vec<String> {
    let held = live.numbers_by_holder();
    let by_id: HashMap<&str, &User> = live.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let released = plan.released_numbers();
    let taken = |c: &Change| {
        c.actions.iter().any(|a| match a {
            Action::AssignNumber { number, .. } => live.numbers.get(number).is_some_and(|a| {
                a.is_held()
                    && a.target.as_deref() != Some(c.user.id.as_str())
                    && !released.contains(&a.number)
            }),
            _ => false,
        })
    };
    plan.changes
        .iter()
        .filter(|c| match by_id.get(c.user.id.as_str()) {
            Some(u) => {
                let numbers = held.get(u.id.as_str()).map_or(&[][..], |v| v.as_slice());
                fingerprint(u, numbers) != c.live_fingerprint || taken(c)
            }
            None => true,
        })
        .map(|c| c.user.upn.clone())
        .collect()
}

//! A saved plan is applied only if it is what roster would plan now from
//! the manifests it records and the live state of the users it names: the
//! plan is recomputed and compared change by change, so an edited plan
//! (a policy renamed, an action added, a number outside every range, a
//! user added) is refused, naming each user and what differs. Pure.
//!
//! One difference is allowed: the number a user is given may differ from
//! the one roster would pick now when it is still one roster could have
//! picked (not a pin, from a range the user's persona draws from, free and
//! not released by this plan, not reserved, pinned or in quarantine, of the
//! range's type and location, and one the user is licensed for), because
//! other users' numbers may have moved since the plan was made. Each action
//! appears once; one new number at most. A plan may also leave users out
//! (it does less); it may never do more. The plan's `quarantine` list is
//! not compared: it informs, and the quarantine may have moved on since.
//! A revert plan is checked against the journal instead
//! ([`super::revert::differences`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::gate::Refusal;
use crate::desired::{self, HeldBack};
use crate::licensing::Licences;
use crate::live::LiveState;
use crate::manifest::{Manifest, NumberPolicy};
use crate::numbers::E164;
use crate::plan::render::describe;
use crate::plan::{self, Action, Change, Meta, Plan};

/// What differs, per user (UPN, or `summary` for the plan as a whole).
pub type Differences = Vec<(String, String)>;

/// Refuse a saved plan that is not what roster would plan now (in `ctx`:
/// the quarantine, the date).
pub fn check_faithful(
    plan: &Plan,
    manifest: &Manifest,
    live: &LiveState,
    ctx: &desired::Context,
) -> Result<(), Refusal> {
    if let Some(id) = &plan.revert_of {
        // Never by the manifests: a revert is what the journal says.
        return Err(Refusal::NotTheRevert {
            apply: id.clone(),
            differences: vec![(
                "revert_of".into(),
                "a revert plan is checked against the journal, not the manifests".into(),
            )],
        });
    }
    let state = desired::compute_with(manifest, live, ctx);
    let meta = Meta {
        created_at: String::new(),
        digest: plan.config.digest.clone(),
        git: None,
        tenant: plan.tenant.clone(),
        limit: plan.limit.users.clone(),
    };
    let fresh = plan::diff(&state, live, meta);
    if let Some(first) = fresh.errors.first() {
        return Err(Refusal::Errors {
            count: fresh.errors.len(),
            first: first.message.clone(),
        });
    }
    let differences = differences(plan, &fresh, manifest, live, ctx.quarantine(manifest));
    if differences.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Edited { differences })
    }
}

/// Every way `plan` differs from `fresh` (roster's plan now) that matters.
pub fn differences(
    plan: &Plan,
    fresh: &Plan,
    manifest: &Manifest,
    live: &LiveState,
    held_back: &BTreeMap<E164, HeldBack>,
) -> Differences {
    let mut out = Vec::new();
    let mut recounted = plan.clone();
    recounted.recount();
    if recounted.summary != plan.summary {
        out.push((
            "summary".to_string(),
            "the summary does not count the plan's changes".to_string(),
        ));
    }
    // The percentage safety limit is measured against it.
    if plan.summary.users_in_scope != fresh.summary.users_in_scope {
        out.push((
            "summary".to_string(),
            format!(
                "{} users in scope in the plan, {} for roster",
                plan.summary.users_in_scope, fresh.summary.users_in_scope
            ),
        ));
    }
    let fresh_by_id: HashMap<&str, &Change> = fresh
        .changes
        .iter()
        .map(|c| (c.user.id.as_str(), c))
        .collect();
    let released = plan.released_numbers();
    let mut seen = HashSet::new();
    let mut given: HashMap<E164, &str> = HashMap::new();
    for c in &plan.changes {
        let who = c.user.upn.clone();
        let mut why = Vec::new();
        if !seen.insert(c.user.id.as_str()) {
            out.push((who, "the user has two changes".into()));
            continue;
        }
        let Some(f) = fresh_by_id.get(c.user.id.as_str()) else {
            out.push((who, "roster would not change this user now".into()));
            continue;
        };
        let numbers = Numbers {
            manifest,
            live,
            released: &released,
            held_back,
        };
        compare_change(c, f, &numbers, &mut why);
        for a in &c.actions {
            if let Action::AssignNumber { number, .. } = a
                && let Some(other) = given.insert(*number, c.user.upn.as_str())
            {
                why.push(format!("number {number} is given to `{other}` too"));
            }
        }
        out.extend(why.into_iter().map(|w| (who.clone(), w)));
    }
    out
}

/// What decides whether a number could have been allocated.
struct Numbers<'a> {
    manifest: &'a Manifest,
    live: &'a LiveState,
    released: &'a HashSet<E164>,
    held_back: &'a BTreeMap<E164, HeldBack>,
}

fn compare_change(c: &Change, f: &Change, numbers: &Numbers<'_>, why: &mut Vec<String>) {
    // Each action at most once, and at most one new number: the checks
    // below compare the first of each.
    for (i, a) in c.actions.iter().enumerate() {
        if c.actions[..i].contains(a) {
            why.push(format!("`{}` appears twice", describe(a)));
        }
    }
    let assigns = c
        .actions
        .iter()
        .filter(|a| matches!(a, Action::AssignNumber { .. }))
        .count();
    if assigns > 1 {
        why.push(format!("{assigns} new numbers for one user"));
    }
    if c.user.upn != f.user.upn {
        why.push(format!(
            "the plan names the user `{}`, the tenant `{}`",
            c.user.upn, f.user.upn
        ));
    }
    if c.persona != f.persona {
        why.push(format!(
            "persona {} in the plan, roster decides {}",
            name(c.persona.as_deref()),
            name(f.persona.as_deref())
        ));
    }
    if c.reason != f.reason {
        why.push("the reason in the plan is not roster's".into());
    }
    let others = |ch: &'_ Change| -> Vec<Action> {
        ch.actions
            .iter()
            .filter(|a| !matches!(a, Action::AssignNumber { .. }))
            .cloned()
            .collect()
    };
    let (mine, theirs) = (others(c), others(f));
    for a in mine.iter().filter(|a| !theirs.contains(a)) {
        why.push(format!("`{}` is not what roster plans", describe(a)));
    }
    for a in theirs.iter().filter(|a| !mine.contains(a)) {
        why.push(format!("`{}` is missing", describe(a)));
    }
    let assign = |ch: &'_ Change| {
        ch.actions
            .iter()
            .find(|a| matches!(a, Action::AssignNumber { .. }))
            .cloned()
    };
    match (assign(c), assign(f)) {
        (None, None) => {}
        (Some(a), None) => why.push(format!(
            "`{}` is not what roster plans (no new number)",
            describe(&a)
        )),
        (None, Some(b)) => why.push(format!("`{}` is missing", describe(&b))),
        (Some(a), Some(b)) if a == b => {}
        (Some(a), Some(b)) => {
            if let Err(e) = could_allocate(&a, &b, c, numbers) {
                why.push(format!("`{}` {e}", describe(&a)));
            }
        }
    }
}

fn name(p: Option<&str>) -> String {
    p.map_or_else(|| "none".to_string(), |p| format!("`{p}`"))
}

/// Whether `a` (the plan's number for the user of `c`) is one roster could
/// have picked, when roster now picks `b`.
fn could_allocate(a: &Action, b: &Action, c: &Change, numbers: &Numbers<'_>) -> Result<(), String> {
    let Numbers {
        manifest,
        live,
        released,
        held_back,
    } = *numbers;
    let Action::AssignNumber {
        number,
        number_type,
        range,
        location_id,
    } = a
    else {
        return Err("is not a number assignment".into());
    };
    let Action::AssignNumber { range: fresh, .. } = b else {
        return Err("is not a number assignment".into());
    };
    let pinned = manifest.users.iter().any(|u| {
        u.number.is_some()
            && (u.upn.value.trim().eq_ignore_ascii_case(c.user.upn.trim())
                || u.upn.value.trim().eq_ignore_ascii_case(c.user.id.trim()))
    });
    if pinned || fresh.is_none() || range.is_none() {
        // A pinned number: only the pin will do.
        return Err("is not the pinned number".into());
    }
    let allowed = c
        .persona
        .as_deref()
        .and_then(|p| manifest.persona(p))
        .and_then(|p| match &p.number {
            NumberPolicy::Ranges(names) => Some(names),
            _ => None,
        });
    let range_name = range.as_deref().unwrap_or_default();
    if !allowed.is_some_and(|names| names.iter().any(|n| n.value == range_name)) {
        return Err(format!(
            "names range `{range_name}`, which the persona does not draw from"
        ));
    }
    let Some(r) = manifest.range(range_name) else {
        return Err(format!("names range `{range_name}`, which does not exist"));
    };
    if !r.contains(*number) {
        return Err(format!("is outside range `{range_name}`"));
    }
    if manifest.ranges.iter().any(|r| r.is_reserved(*number)) {
        return Err("is a reserved number".into());
    }
    if *number_type != r.kind || location_id != &r.location {
        return Err(format!(
            "does not have the type and location of range `{range_name}`"
        ));
    }
    if manifest
        .users
        .iter()
        .any(|u| u.number.as_ref().is_some_and(|n| n.value == *number))
    {
        return Err("is pinned to a user".into());
    }
    if held_back.contains_key(number) {
        return Err("is in quarantine".into());
    }
    let entry = live.numbers.get(number);
    if r.kind.needs_inventory() && !entry.is_some_and(|e| e.can_assign_to_user()) {
        return Err("is not in the tenant's inventory for user assignment".into());
    }
    // Roster never gives a number this plan releases to someone else (it
    // goes into quarantine); only a pin may take one.
    if released.contains(number) {
        return Err("is released by this plan".into());
    }
    if let Some(e) = entry
        && e.is_held()
        && e.target.as_deref() != Some(c.user.id.as_str())
    {
        return Err("is held by another user".into());
    }
    // Roster gives no number to a user not licensed for it.
    if let Some(licences) = Licences::of(live)
        && let Some(user) = live.users.iter().find(|u| u.id == c.user.id)
        && let Some((need, _)) = licences.missing(user, r.kind)
    {
        return Err(format!(
            "is a `{}` number and the user is not licensed for {}",
            r.kind.graph_name(),
            need.name()
        ));
    }
    Ok(())
}

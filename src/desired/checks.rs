//! Checks of the manifests against the tenant that are not about one user:
//! policies that do not exist, groups no condition can find, overrides for
//! users that do not exist. They become the plan's tenant-wide warnings and
//! errors. Pure: no I/O.

use std::collections::HashSet;

use super::DesiredState;
use super::keys::Keys;
use crate::issue::{Issue, IssueCode};
use crate::live::LiveState;
use crate::manifest::Manifest;
use crate::rules;

/// A user override that names no user of the tenant (by UPN or object id)
/// is a warning: it may be a typo, or a user who has left.
pub(super) fn check_overrides(manifest: &Manifest, live: &LiveState, out: &mut DesiredState) {
    if manifest.users.is_empty() {
        return;
    }
    // The overrides' lower-cased UPNs that some user's UPN or object id
    // (lower-cased too) is, looked for over the cores.
    let keys = Keys::new(
        manifest
            .users
            .iter()
            .map(|u| (u.upn.value.trim().to_lowercase(), ())),
    );
    let found: HashSet<&str, foldhash::fast::FixedState> =
        super::split::map_chunks(live.users.len(), |range| {
            live.users[range]
                .iter()
                .flat_map(|u| [keys.get(&u.upn), keys.get(&u.id)])
                .filter_map(|k| k.map(|(k, _)| k))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
    for u in &manifest.users {
        if !found.contains(u.upn.value.trim().to_lowercase().as_str()) {
            out.warnings.push(Issue::user(
                IssueCode::UnknownUserOverride,
                u.upn.value.clone(),
                format!(
                    "user override `{}` names a user that does not exist in the tenant",
                    u.upn.value
                ),
            ));
        }
    }
}

/// A `memberOf` value that names no group never holds: warn, naming where.
pub(super) fn check_groups(manifest: &Manifest, live: &LiveState, out: &mut DesiredState) {
    let mut places: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(scope) = &manifest.settings().scope {
        let mut unknown = Vec::new();
        rules::unknown_groups(std::slice::from_ref(scope), live, &mut unknown);
        places.push(("the tenant `scope`".into(), unknown));
    }
    for r in &manifest.rules {
        let mut unknown = Vec::new();
        rules::unknown_groups(&r.when, live, &mut unknown);
        places.push((format!("rule `{}`", r.name.value), unknown));
    }
    for (place, unknown) in places {
        for g in unknown {
            out.warnings.push(Issue::tenant(
                IssueCode::UnknownGroup,
                format!(
                    "{place} tests `memberOf \"{g}\"`, but no group of the tenant has that display name or object id; the condition never holds"
                ),
            ));
        }
    }
}

/// Every policy name a persona uses must exist in the tenant for its type.
pub(super) fn check_policies(manifest: &Manifest, live: &LiveState, out: &mut DesiredState) {
    for p in &manifest.personas {
        for s in &p.policies {
            let Some(name) = &s.policy else { continue };
            if live.policy(&s.policy_type.value, name).is_none() {
                let existing: Vec<String> = live
                    .policies
                    .get(&s.policy_type.value)
                    .map(|m| m.values().map(|p| format!("`{}`", p.name)).collect())
                    .unwrap_or_default();
                let known = if existing.is_empty() {
                    "no policy of this type exists in the tenant besides `Global`".to_string()
                } else {
                    format!("policies that exist: {}", existing.join(", "))
                };
                out.errors.push(Issue::tenant(
                    IssueCode::UnknownPolicy,
                    format!(
                        "persona `{}` sets {} `{}`, which does not exist in the tenant; {known}",
                        p.name.value, s.policy_type.value, name
                    ),
                ));
            }
        }
    }
}

/// A user override that expired stops applying (the rules decide for the
/// user again) and says so; one that expires within the warning window
/// says when. Without a date nothing expires.
pub(super) fn check_override_dates(
    manifest: &Manifest,
    ctx: &super::Context,
    out: &mut DesiredState,
) {
    let Some(today) = ctx.today.as_deref() else {
        return;
    };
    for u in &manifest.users {
        let Some(expires) = &u.expires else { continue };
        let owner = u
            .owner
            .as_deref()
            .map(|o| format!(" (owner: {o})"))
            .unwrap_or_default();
        let upn = &u.upn.value;
        if u.expired(today) {
            out.warnings.push(Issue::user(
                IssueCode::OverrideExpired,
                upn.clone(),
                format!(
                    "user override `{upn}`{owner} expired on {}: it no longer applies and the rules decide for this user again; remove it, or extend `expires`",
                    expires.value
                ),
            ));
        } else if ctx
            .warn_until
            .as_deref()
            .is_some_and(|w| expires.value.as_str() <= w)
        {
            out.warnings.push(Issue::user(
                IssueCode::OverrideExpiring,
                upn.clone(),
                format!(
                    "user override `{upn}`{owner} expires on {}: from then on the rules decide for this user; extend `expires` if it must stay",
                    expires.value
                ),
            ));
        }
    }
}

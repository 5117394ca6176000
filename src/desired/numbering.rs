//! Numbers for the users the rules gave a persona: which numbers each user
//! keeps or releases (sticky numbers, pins, forbidden), then pins and
//! lowest-free allocation in lower-cased UPN order, exactly as the manifest
//! language's "Number allocation" section says, passing over users not
//! licensed for the number they would get ([`crate::licensing`]). The
//! allocator itself is [`crate::numbers::allocate`]. Numbers in quarantine
//! are passed over, listed for the plan, and refused to a pin without
//! `take-quarantined`. Pure: no I/O.

use std::collections::{BTreeMap, HashSet};

use super::{DesiredState, DesiredUser, HeldBack, NewNumber, Quarantined};
use crate::issue::{Issue, IssueCode};
use crate::licensing::{Grant, Licences, Need};
use crate::live::{LiveState, NumberAssignment, User};
use crate::manifest::{Manifest, NumberPolicy, NumberRange, Persona};
use crate::numbers::allocate::{Allocator, Candidates, Pool};
use crate::numbers::{E164, NumberType};

/// Pass 2: give every user in `wants` (index into `out.users`, and what it
/// wants) its pinned or allocated number, with every number held, reserved,
/// pinned, released or held back (quarantined) taken; problems become
/// errors of `out`.
pub(super) fn allocate(
    manifest: &Manifest,
    live: &LiveState,
    held_back: &BTreeMap<E164, HeldBack>,
    out: &mut DesiredState,
    mut wants: Vec<(usize, Want)>,
) {
    // In lower-cased UPN order (the users' order).
    let released: HashSet<E164> = out
        .users
        .iter()
        .flat_map(|d| d.release.iter().copied())
        .collect();
    let mut taken: HashSet<E164> = live
        .numbers
        .values()
        .filter(|n| n.is_held())
        .map(|n| n.number)
        .collect();
    taken.extend(released.iter().copied());
    // In quarantine: released by an earlier apply, not to be given again
    // yet (a pin may still take one, when its override says so).
    taken.extend(held_back.keys().copied());
    taken.extend(
        manifest
            .users
            .iter()
            .filter_map(|u| u.number.as_ref().map(|n| n.value)),
    );
    // Reserved by any range (see `is_reserved`): only a pin may take them.
    taken.extend(
        manifest
            .ranges
            .iter()
            .flat_map(|r| r.reserve.iter().map(|n| n.value)),
    );
    let mut allocator = Allocator::new(pools(manifest, live));
    // `LiveState::finish` sorts users this way already; a provider that
    // forgot to call it must not change who gets which number.
    wants.sort_by_cached_key(|(di, _)| {
        let u = &live.users[out.users[*di].user];
        (crate::rules::lowercase(&u.upn), u.id.as_str())
    });
    // Licensing (when the tenant recorded it): a user without the licence
    // for the number it would get is an error, and takes no number.
    let licences = Licences::of(live);
    for (di, want) in wants {
        let d = &mut out.users[di];
        let user = &live.users[d.user];
        match want {
            Want::Pin(n, take_quarantined) => {
                let problem = pin_problem(manifest, live, user, n, &released).or_else(|| {
                    held_back
                        .get(&n)
                        .filter(|h| !take_quarantined && !h.held_by(&user.upn, &user.id))
                        .map(|h| pin_quarantined(user, n, h))
                });
                match problem {
                    Some(issue) => out.errors.push(issue),
                    None => {
                        let p = pinned(manifest, live, n);
                        match licences
                            .as_ref()
                            .and_then(|l| l.missing(user, p.number_type))
                        {
                            Some((need, grant)) => out.errors.push(unlicensed(
                                user,
                                &format!(
                                    "the pinned `{}` number `{n}`",
                                    p.number_type.graph_name()
                                ),
                                need,
                                &grant,
                            )),
                            None => d.assign = Some(p),
                        }
                    }
                }
            }
            Want::New(ranges) => {
                // Without Teams Phone no number will do: take none.
                if let Some((need, grant)) = licences
                    .as_ref()
                    .and_then(|l| l.missing(user, NumberType::DirectRouting))
                {
                    let what = format!("a number from {}", range_list(&ranges));
                    out.errors.push(unlicensed(user, &what, need, &grant));
                    continue;
                }
                match allocator.allocate(&ranges, &mut taken) {
                    Some(n) => match licences.as_ref().and_then(|l| l.missing(user, n.kind)) {
                        Some((need, grant)) => {
                            // Given back: the next user in UPN order gets it.
                            taken.remove(&n.number);
                            let what = format!(
                                "a `{}` number from range `{}`",
                                n.kind.graph_name(),
                                n.pool
                            );
                            out.errors.push(unlicensed(user, &what, need, &grant));
                        }
                        None => {
                            d.assign = Some(NewNumber {
                                number: n.number,
                                number_type: n.kind,
                                range: Some(n.pool),
                                location_id: n.location_id,
                            })
                        }
                    },
                    None => out.errors.push(Issue::user(
                        IssueCode::RangeExhausted,
                        user.upn.clone(),
                        format!(
                            "no free number for `{}` in {}",
                            user.upn,
                            range_list(&ranges)
                        ),
                    )),
                }
            }
        }
    }
}

/// `range `a`` or `ranges `a`, `b``.
fn range_list(ranges: &[String]) -> String {
    format!(
        "range{} {}",
        if ranges.len() == 1 { "" } else { "s" },
        ranges
            .iter()
            .map(|r| format!("`{r}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The `unlicensed-user` error of `user`, who would get `what`.
fn unlicensed(user: &User, what: &str, need: Need, grant: &Grant) -> Issue {
    Issue::user(
        IssueCode::UnlicensedUser,
        user.upn.clone(),
        Licences::message(user, what, need, grant),
    )
}

/// The numbers in quarantine that a range would otherwise offer: inside a
/// block, not held, reserved or pinned, and for Calling Plan and Operator
/// Connect ranges in the inventory for user assignment. In number order.
pub(super) fn quarantined(
    manifest: &Manifest,
    live: &LiveState,
    held_back: &BTreeMap<E164, HeldBack>,
) -> Vec<Quarantined> {
    let pinned: HashSet<E164> = manifest
        .users
        .iter()
        .filter_map(|u| u.number.as_ref().map(|n| n.value))
        .collect();
    held_back
        .iter()
        .filter(|(n, _)| !is_reserved(manifest, **n) && !pinned.contains(*n))
        .filter_map(|(n, h)| {
            let entry = live.numbers.get(n);
            if entry.is_some_and(|e| e.is_held()) {
                return None;
            }
            let range = manifest.ranges.iter().find(|r| {
                r.contains(*n)
                    && (!r.kind.needs_inventory() || entry.is_some_and(|e| e.can_assign_to_user()))
            })?;
            Some(Quarantined {
                number: *n,
                range: range.name.value.clone(),
                until: h.until.clone(),
                released_at: h.released_at.clone(),
                holder: h.holder.clone(),
            })
        })
        .collect()
}

/// The error of a pin onto a number in quarantine.
fn pin_quarantined(user: &User, n: E164, h: &HeldBack) -> Issue {
    let from = if h.holder.is_empty() {
        String::new()
    } else {
        format!(" (released from `{}`)", h.holder)
    };
    Issue::user(
        IssueCode::PinnedNumberQuarantined,
        user.upn.clone(),
        format!(
            "`{n}` is pinned to `{}` but is in quarantine until {}{from}; pin another number, wait until then, or add `take-quarantined=#true` (TOML: `take-quarantined = true`) to the user override to give it now",
            user.upn, h.until
        ),
    )
}

/// The manifest's ranges as the allocator sees them: Direct Routing ranges
/// by their blocks; Calling Plan and Operator Connect ranges by the
/// unassigned inventory numbers inside their blocks that may go to users.
fn pools(manifest: &Manifest, live: &LiveState) -> Vec<Pool> {
    manifest
        .ranges
        .iter()
        .map(|r| {
            let mut blocks: Vec<(E164, E164)> = r
                .blocks
                .iter()
                .filter(|b| b.size() > 0)
                .map(|b| (b.from, b.to))
                .collect();
            blocks.sort();
            let candidates = if r.kind.needs_inventory() {
                Candidates::Inventory(
                    blocks
                        .iter()
                        .flat_map(|(from, to)| live.numbers.range(*from..=*to))
                        .filter(|(_, a)| !a.is_held() && a.can_assign_to_user())
                        .map(|(n, _)| *n)
                        .collect(),
                )
            } else {
                Candidates::Blocks(blocks)
            };
            Pool {
                name: r.name.value.clone(),
                kind: r.kind,
                location_id: r.location.clone(),
                candidates,
            }
        })
        .collect()
}

/// What a user needs from pass 2.
pub(super) enum Want {
    /// A pinned number, and whether it may be taken from quarantine.
    Pin(E164, bool),
    New(Vec<String>),
}

/// Decide which of the user's numbers go, and whether a number is needed.
pub(super) fn number_decision(
    ranges: &[&NumberRange],
    reserved: &Reserved,
    persona: &Persona,
    pin: Option<(E164, bool)>,
    held: &[&NumberAssignment],
    d: &mut DesiredUser,
) -> Option<Want> {
    let primaries = || held.iter().filter(|n| n.is_primary()).map(|n| n.number);
    if let Some((pin, take_quarantined)) = pin {
        d.release = primaries().filter(|n| *n != pin).collect();
        let has_primary = primaries().any(|n| n == pin);
        if !has_primary && held.iter().any(|n| n.number == pin) {
            // Held in another category (a private line): the pin is the
            // primary number, so move it there.
            d.release.push(pin);
        }
        return (!has_primary).then_some(Want::Pin(pin, take_quarantined));
    }
    match &persona.number {
        NumberPolicy::Unmanaged => None,
        NumberPolicy::Forbidden => {
            d.release = held.iter().map(|n| n.number).collect();
            None
        }
        NumberPolicy::Ranges(names) => {
            let keep = primaries()
                .find(|n| ranges.iter().any(|r| r.contains(*n)) && !reserved.contains(n));
            d.release = primaries().filter(|n| Some(*n) != keep).collect();
            keep.is_none()
                .then(|| Want::New(names.iter().map(|n| n.value.clone()).collect()))
        }
    }
}

/// Every number some range reserves (see [`is_reserved`]).
pub(super) type Reserved = HashSet<E164, foldhash::fast::FixedState>;

pub(super) fn reserved(manifest: &Manifest) -> Reserved {
    manifest
        .ranges
        .iter()
        .flat_map(|r| r.reserve.iter().map(|n| n.value))
        .collect()
}

/// The ranges of a persona's `number`, in its order (none unless it names
/// ranges).
pub(super) fn ranges_of<'m>(manifest: &'m Manifest, persona: &Persona) -> Vec<&'m NumberRange> {
    match &persona.number {
        NumberPolicy::Ranges(names) => names
            .iter()
            .filter_map(|n| manifest.range(&n.value))
            .collect(),
        _ => Vec::new(),
    }
}

/// Why a pinned number cannot be given to `user` in this plan, if it cannot:
/// another target holds it (and does not release it in this plan), or it is
/// a Calling Plan / Operator Connect number the tenant has not acquired for
/// user assignment (apply would fail on it).
fn pin_problem(
    manifest: &Manifest,
    live: &LiveState,
    user: &User,
    n: E164,
    released: &HashSet<E164>,
) -> Option<Issue> {
    let entry = live.numbers.get(&n);
    let other = entry.filter(|a| a.is_held() && a.target.as_deref() != Some(user.id.as_str()));
    if let Some(a) = other
        && !released.contains(&n)
    {
        let who = match &a.target {
            Some(t) => live
                .users
                .iter()
                .find(|u| &u.id == t)
                .map_or_else(|| t.clone(), |u| u.upn.clone()),
            None => format!("a target of status `{}`", a.status),
        };
        return Some(Issue::user(
            IssueCode::PinnedNumberTaken,
            user.upn.clone(),
            format!(
                "`{n}` is pinned to `{}` but `{who}` holds it; release it from `{who}` first or pin another number",
                user.upn
            ),
        ));
    }
    let kind = pinned(manifest, live, n).number_type;
    if kind.needs_inventory() && !entry.is_some_and(|a| a.can_assign_to_user()) {
        let why = if entry.is_none() {
            "is not in the tenant's phone number inventory"
        } else {
            "lacks the `userAssignment` capability"
        };
        return Some(Issue::user(
            IssueCode::PinnedNumberUnavailable,
            user.upn.clone(),
            format!(
                "`{n}` is pinned to `{}` but, as a {} number, it {why}; acquire it for user assignment first or pin another number",
                user.upn,
                kind.graph_name()
            ),
        ));
    }
    None
}

/// Reserved by any range: a `reserve` line means "never by rules", even when
/// the number lies in another range's block (validation warns about that).
fn is_reserved(manifest: &Manifest, n: E164) -> bool {
    manifest.ranges.iter().any(|r| r.is_reserved(n))
}

fn pinned(manifest: &Manifest, live: &LiveState, n: E164) -> NewNumber {
    let range = manifest.ranges.iter().find(|r| r.contains(n));
    let number_type = live
        .numbers
        .get(&n)
        .and_then(|a| a.number_type)
        .or(range.map(|r| r.kind))
        .unwrap_or(NumberType::DirectRouting);
    NewNumber {
        number: n,
        number_type,
        range: range.map(|r| r.name.value.clone()),
        location_id: range.and_then(|r| r.location.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    fn entry(num: &str, target: Option<&str>, kind: NumberType) -> NumberAssignment {
        NumberAssignment::for_test(n(num), kind, target)
    }

    #[test]
    fn only_numbers_a_range_would_offer_are_listed_as_quarantined() {
        let loaded = crate::manifest::parse_str(
            "m.kdl",
            r#"
range "dr" type="direct-routing" {
    block "+442071230000" "+442071230009"
    reserve "+442071230009"
}
range "cp" type="calling-plan" {
    block "+15550000" "+15550009"
}
user "pin@x.com" number="+442071230008"
"#,
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let mut live = LiveState::default();
        for (num, target, kind) in [
            ("+442071230002", Some("u1"), NumberType::DirectRouting),
            ("+15550001", None, NumberType::CallingPlan),
        ] {
            live.numbers.insert(n(num), entry(num, target, kind));
        }
        let held_back: BTreeMap<E164, HeldBack> = [
            "+442071230001", // free in `dr`: listed
            "+442071230002", // held again
            "+442071230008", // pinned
            "+442071230009", // reserved
            "+15550001",     // in the inventory of `cp`: listed
            "+15550002",     // not in the inventory of `cp`
            "+19999999999",  // in no range
        ]
        .into_iter()
        .map(|s| {
            (
                n(s),
                HeldBack {
                    until: "2027-01-01T00:00:00Z".into(),
                    released_at: "2026-12-25T00:00:00Z".into(),
                    holder: "old@x.com".into(),
                },
            )
        })
        .collect();
        let listed: Vec<(String, String)> = quarantined(&loaded.manifest, &live, &held_back)
            .into_iter()
            .map(|q| (q.number.to_string(), q.range))
            .collect();
        assert_eq!(
            listed,
            [
                ("+15550001".to_string(), "cp".to_string()),
                ("+442071230001".to_string(), "dr".to_string())
            ]
        );
    }
}

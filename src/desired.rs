//! Desired state: what every user in scope should have, computed from the
//! manifests and the live tenant.
//!
//! Precedence for one user: `ignore`, then leaver handling, then a persona
//! override, then the first rule that matches. Numbers follow the manifest
//! language's "Number allocation" section exactly: pins, then sticky
//! numbers, then the lowest free number, users served in lower-cased UPN
//! order. Pure and deterministic: no I/O, no clock; O(n log n) overall.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::catalog::AttrId;
use crate::live::{LiveState, NumberAssignment, User};
use crate::manifest::{Manifest, NumberPolicy, NumberRange, Persona, UserOverride};
use crate::numbers::{E164, NumberType};
use crate::rules::{self, Compiled, Subject};

/// Why a user has its persona (or its leaver treatment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Rule(String),
    Override,
    Leaver,
}

/// A new number for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNumber {
    pub number: E164,
    pub number_type: NumberType,
    /// The range it was drawn from (`None` for a pin outside every range).
    pub range: Option<String>,
    pub location_id: Option<String>,
}

/// The decision for one user in scope that roster manages.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredUser {
    /// Index into [`LiveState::users`].
    pub user: usize,
    pub persona: Option<String>,
    pub reason: Reason,
    /// Managed policy types: `Some(name)` for a direct assignment, `None` for
    /// none (`Global`, or a leaver's reset). Shared by every user of a
    /// persona.
    pub policies: Arc<BTreeMap<String, Option<String>>>,
    /// Numbers the user holds that must go.
    pub release: Vec<E164>,
    /// A number the user must be given.
    pub assign: Option<NewNumber>,
}

/// A problem of the plan (not of the manifests' syntax).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Issue {
    pub code: &'static str,
    pub user: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct DesiredState {
    pub users: Vec<DesiredUser>,
    /// Indexes of users in scope that no rule matched.
    pub unmatched: Vec<usize>,
    pub in_scope: usize,
    pub warnings: Vec<Issue>,
    pub errors: Vec<Issue>,
}

/// Rules compiled against a live state, reusable for `explain`.
pub struct Engine<'m> {
    pub manifest: &'m Manifest,
    pub scope: Vec<Compiled>,
    pub rules: Vec<Vec<Compiled>>,
    pub used: Vec<AttrId>,
}

impl<'m> Engine<'m> {
    pub fn new(manifest: &'m Manifest, live: &LiveState) -> Self {
        let settings = manifest.settings();
        let scope = settings
            .scope
            .as_ref()
            .map(|c| rules::compile(std::slice::from_ref(c), live))
            .unwrap_or_default();
        let rules: Vec<Vec<Compiled>> = manifest
            .rules
            .iter()
            .map(|r| rules::compile(&r.when, live))
            .collect();
        let mut used = Vec::new();
        rules::used_attributes(&scope, &mut used);
        for r in &rules {
            rules::used_attributes(r, &mut used);
        }
        Engine {
            manifest,
            scope,
            rules,
            used,
        }
    }

    pub fn subject<'a>(&self, live: &'a LiveState, user: usize) -> Subject<'a> {
        Subject::new(&live.users[user], live, &self.used)
    }

    pub fn in_scope(&self, s: &Subject<'_>) -> bool {
        rules::holds_all(&self.scope, s)
    }

    /// For every user: `None` when out of scope, else the index of the first
    /// rule that matches (if any). The users are split over the machine's
    /// cores; the result does not depend on how.
    pub fn classify(&self, live: &LiveState) -> Vec<Option<Option<usize>>> {
        let n = live.users.len();
        let threads = std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .clamp(1, 8)
            .min(n / 2048 + 1);
        let one = |i: usize| {
            let s = self.subject(live, i);
            self.in_scope(&s).then(|| self.first_match(&s))
        };
        if threads <= 1 {
            return (0..n).map(one).collect();
        }
        let chunk = n.div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = (0..threads)
                .map(|t| {
                    let range = (t * chunk).min(n)..((t + 1) * chunk).min(n);
                    scope.spawn(move || range.map(one).collect::<Vec<_>>())
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().expect("rule evaluation does not panic"))
                .collect()
        })
    }

    /// Index of the first rule that matches.
    pub fn first_match(&self, s: &Subject<'_>) -> Option<usize> {
        self.rules.iter().position(|r| rules::holds_all(r, s))
    }
}

/// The user overrides, by lower-cased UPN or object id.
struct Overrides<'m> {
    by_key: HashMap<String, &'m UserOverride>,
}

impl<'m> Overrides<'m> {
    fn new(manifest: &'m Manifest) -> Self {
        Overrides {
            by_key: manifest
                .users
                .iter()
                .map(|u| (u.upn.value.trim().to_lowercase(), u))
                .collect(),
        }
    }

    fn get(&self, user: &User) -> Option<&'m UserOverride> {
        self.by_key
            .get(&user.upn.trim().to_lowercase())
            .or_else(|| self.by_key.get(&user.id.trim().to_lowercase()))
            .copied()
    }
}

/// The user override for `user`: written with its UPN (without regard to
/// case) or, as `explain` accepts too, its object id.
pub fn override_for<'m>(manifest: &'m Manifest, user: &User) -> Option<&'m UserOverride> {
    Overrides::new(manifest).get(user)
}

pub fn compute(manifest: &Manifest, live: &LiveState) -> DesiredState {
    let engine = Engine::new(manifest, live);
    let settings = manifest.settings();
    let overrides = Overrides::new(manifest);
    let mut out = DesiredState::default();
    check_policies(manifest, live, &mut out);
    // Every user's lower-cased UPN and object id, as overrides match them.
    let known: HashSet<String> = live
        .users
        .iter()
        .flat_map(|u| [u.upn.trim().to_lowercase(), u.id.trim().to_lowercase()])
        .collect();
    for u in &manifest.users {
        if !known.contains(&u.upn.value.trim().to_lowercase()) {
            out.warnings.push(Issue {
                code: "unknown-user-override",
                user: Some(u.upn.value.clone()),
                message: format!(
                    "user override `{}` names a user that does not exist in the tenant",
                    u.upn.value
                ),
            });
        }
    }
    check_groups(manifest, live, &mut out);
    // Policy types some persona manages: what a leaver reset removes.
    let managed_types: Vec<String> = manifest
        .personas
        .iter()
        .flat_map(|p| p.policies.iter().map(|s| s.policy_type.value.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let held = live.numbers_by_holder();
    // Every persona's policies, with the tenant's spelling of each name,
    // resolved once (not once per user).
    let persona_policies: HashMap<&str, Arc<BTreeMap<String, Option<String>>>> = manifest
        .personas
        .iter()
        .map(|p| (p.name.value.as_str(), Arc::new(policies_of(p, live))))
        .collect();
    let leaver_policies: Arc<BTreeMap<String, Option<String>>> =
        Arc::new(if settings.leavers.reset_policies {
            managed_types.iter().map(|t| (t.clone(), None)).collect()
        } else {
            BTreeMap::new()
        });
    let verdicts = engine.classify(live);

    // Pass 1: persona, policies, and which numbers go or are wanted.
    let mut wants: Vec<(usize, Want)> = Vec::new();
    for (i, user) in live.users.iter().enumerate() {
        let ov = overrides.get(user);
        if ov.is_some_and(|o| o.ignore) {
            continue;
        }
        let Some(first_match) = verdicts[i] else {
            continue;
        };
        out.in_scope += 1;
        let user_numbers: &[&NumberAssignment] = held.get(user.id.as_str()).map_or(&[], |v| v);
        if !user.account_enabled {
            let mut d = DesiredUser {
                user: i,
                persona: None,
                reason: Reason::Leaver,
                policies: leaver_policies.clone(),
                release: Vec::new(),
                assign: None,
            };
            if settings.leavers.release_number {
                d.release = user_numbers.iter().map(|n| n.number).collect();
            }
            out.users.push(d);
            continue;
        }
        let (persona, reason) = match ov.and_then(|o| o.persona.as_ref()) {
            Some(p) => (manifest.persona(&p.value), Reason::Override),
            None => match first_match {
                Some(r) => (
                    manifest.persona(&manifest.rules[r].persona.value),
                    Reason::Rule(manifest.rules[r].name.value.clone()),
                ),
                None => {
                    out.unmatched.push(i);
                    continue;
                }
            },
        };
        let Some(persona) = persona else {
            // Validation reports unknown personas; nothing to do here.
            continue;
        };
        let mut d = DesiredUser {
            user: i,
            persona: Some(persona.name.value.clone()),
            reason,
            policies: persona_policies
                .get(persona.name.value.as_str())
                .cloned()
                .unwrap_or_else(|| Arc::new(policies_of(persona, live))),
            release: Vec::new(),
            assign: None,
        };
        let pin = ov.and_then(|o| o.number.as_ref()).map(|n| n.value);
        let want = number_decision(manifest, persona, pin, user_numbers, &mut d);
        if let Some(w) = want {
            wants.push((out.users.len(), w));
        }
        out.users.push(d);
    }

    // Pass 2: pins and allocation, in lower-cased UPN order (the users'
    // order), with every number held, reserved, pinned or released taken.
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
    let mut allocator = Allocator::new(manifest, live);
    // `LiveState::finish` sorts users this way already; a provider that
    // forgot to call it must not change who gets which number.
    wants.sort_by_cached_key(|(di, _)| {
        let u = &live.users[out.users[*di].user];
        (u.upn.to_lowercase(), u.id.clone())
    });
    for (di, want) in wants {
        let d = &mut out.users[di];
        let user = &live.users[d.user];
        match want {
            Want::Pin(n) => match pin_problem(manifest, live, user, n, &released) {
                Some(issue) => out.errors.push(issue),
                None => d.assign = Some(pinned(manifest, live, n)),
            },
            Want::New(ranges) => match allocator.allocate(&ranges, &mut taken) {
                Some(n) => d.assign = Some(n),
                None => out.errors.push(Issue {
                    code: "range-exhausted",
                    user: Some(user.upn.clone()),
                    message: format!(
                        "no free number for `{}` in range{} {}",
                        user.upn,
                        if ranges.len() == 1 { "" } else { "s" },
                        ranges
                            .iter()
                            .map(|r| format!("`{r}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
            },
        }
    }
    out.errors.sort();
    out.warnings.sort();
    out
}

/// A persona's policies with the tenant's spelling of each policy name.
fn policies_of(persona: &Persona, live: &LiveState) -> BTreeMap<String, Option<String>> {
    persona
        .policies
        .iter()
        .map(|s| {
            let canonical = s.policy.as_ref().map(|name| {
                live.policy(&s.policy_type.value, name)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| name.clone())
            });
            (s.policy_type.value.clone(), canonical)
        })
        .collect()
}

/// What a user needs from pass 2.
enum Want {
    Pin(E164),
    New(Vec<String>),
}

/// Decide which of the user's numbers go, and whether a number is needed.
fn number_decision(
    manifest: &Manifest,
    persona: &Persona,
    pin: Option<E164>,
    held: &[&NumberAssignment],
    d: &mut DesiredUser,
) -> Option<Want> {
    let primaries = || held.iter().filter(|n| n.is_primary()).map(|n| n.number);
    if let Some(pin) = pin {
        d.release = primaries().filter(|n| *n != pin).collect();
        let has_primary = primaries().any(|n| n == pin);
        if !has_primary && held.iter().any(|n| n.number == pin) {
            // Held in another category (a private line): the pin is the
            // primary number, so move it there.
            d.release.push(pin);
        }
        return (!has_primary).then_some(Want::Pin(pin));
    }
    match &persona.number {
        NumberPolicy::Unmanaged => None,
        NumberPolicy::Forbidden => {
            d.release = held.iter().map(|n| n.number).collect();
            None
        }
        NumberPolicy::Ranges(names) => {
            let ranges: Vec<&NumberRange> = names
                .iter()
                .filter_map(|n| manifest.range(&n.value))
                .collect();
            let keep = primaries()
                .find(|n| ranges.iter().any(|r| r.contains(*n)) && !is_reserved(manifest, *n));
            d.release = primaries().filter(|n| Some(*n) != keep).collect();
            keep.is_none()
                .then(|| Want::New(names.iter().map(|n| n.value.clone()).collect()))
        }
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
        return Some(Issue {
            code: "pinned-number-taken",
            user: Some(user.upn.clone()),
            message: format!(
                "`{n}` is pinned to `{}` but `{who}` holds it; release it from `{who}` first or pin another number",
                user.upn
            ),
        });
    }
    let kind = pinned(manifest, live, n).number_type;
    if kind.needs_inventory() && !entry.is_some_and(|a| a.can_assign_to_user()) {
        let why = if entry.is_none() {
            "is not in the tenant's phone number inventory"
        } else {
            "lacks the `userAssignment` capability"
        };
        return Some(Issue {
            code: "pinned-number-unavailable",
            user: Some(user.upn.clone()),
            message: format!(
                "`{n}` is pinned to `{}` but, as a {} number, it {why}; acquire it for user assignment first or pin another number",
                user.upn,
                kind.graph_name()
            ),
        });
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

/// Lowest-free allocation with one forward-only cursor per range: numbers
/// only become taken during a plan, so a cursor never needs to move back.
struct Allocator<'m> {
    ranges: HashMap<&'m str, RangeCursor<'m>>,
}

struct RangeCursor<'m> {
    range: &'m NumberRange,
    candidates: Candidates,
}

enum Candidates {
    /// Direct Routing: every number of the blocks, sorted; (block, next).
    Blocks {
        blocks: Vec<(E164, E164)>,
        block: usize,
        next: Option<E164>,
    },
    /// Calling Plan / Operator Connect: unassigned inventory numbers with
    /// the `userAssignment` capability inside the blocks, sorted.
    Inventory { numbers: Vec<E164>, next: usize },
}

impl<'m> Allocator<'m> {
    fn new(manifest: &'m Manifest, live: &LiveState) -> Self {
        let mut ranges = HashMap::new();
        for r in &manifest.ranges {
            let mut blocks: Vec<(E164, E164)> = r
                .blocks
                .iter()
                .filter(|b| b.size() > 0)
                .map(|b| (b.from, b.to))
                .collect();
            blocks.sort();
            let candidates = if r.kind.needs_inventory() {
                let mut numbers: Vec<E164> = blocks
                    .iter()
                    .flat_map(|(from, to)| live.numbers.range(*from..=*to))
                    .filter(|(_, a)| !a.is_held() && a.can_assign_to_user())
                    .map(|(n, _)| *n)
                    .collect();
                numbers.sort();
                numbers.dedup();
                Candidates::Inventory { numbers, next: 0 }
            } else {
                let next = blocks.first().map(|b| b.0);
                Candidates::Blocks {
                    blocks,
                    block: 0,
                    next,
                }
            };
            ranges.insert(
                r.name.value.as_str(),
                RangeCursor {
                    range: r,
                    candidates,
                },
            );
        }
        Allocator { ranges }
    }

    fn allocate(&mut self, names: &[String], taken: &mut HashSet<E164>) -> Option<NewNumber> {
        for name in names {
            let Some(cursor) = self.ranges.get_mut(name.as_str()) else {
                continue;
            };
            if let Some(n) = cursor.next_free(taken) {
                taken.insert(n);
                return Some(NewNumber {
                    number: n,
                    number_type: cursor.range.kind,
                    range: Some(name.clone()),
                    location_id: cursor.range.location.clone(),
                });
            }
        }
        None
    }
}

impl RangeCursor<'_> {
    fn next_free(&mut self, taken: &HashSet<E164>) -> Option<E164> {
        let free = |n: &E164| !taken.contains(n);
        match &mut self.candidates {
            Candidates::Inventory { numbers, next } => {
                while *next < numbers.len() {
                    let n = numbers[*next];
                    if free(&n) {
                        return Some(n);
                    }
                    *next += 1;
                }
                None
            }
            Candidates::Blocks {
                blocks,
                block,
                next,
            } => loop {
                let (_, to) = *blocks.get(*block)?;
                match *next {
                    Some(n) if n <= to => {
                        if free(&n) {
                            return Some(n);
                        }
                        *next = n.next();
                    }
                    _ => {
                        *block += 1;
                        // Blocks are sorted and do not overlap (validated),
                        // but never step back below where we are.
                        *next = blocks.get(*block).map(|b| match *next {
                            Some(n) if n > b.0 => n,
                            _ => b.0,
                        });
                    }
                }
            },
        }
    }
}

/// A `memberOf` value that names no group never holds: warn, naming where.
fn check_groups(manifest: &Manifest, live: &LiveState, out: &mut DesiredState) {
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
            out.warnings.push(Issue {
                code: "unknown-group",
                user: None,
                message: format!(
                    "{place} tests `memberOf \"{g}\"`, but no group of the tenant has that display name or object id; the condition never holds"
                ),
            });
        }
    }
}

/// Every policy name a persona uses must exist in the tenant for its type.
fn check_policies(manifest: &Manifest, live: &LiveState, out: &mut DesiredState) {
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
                out.errors.push(Issue {
                    code: "unknown-policy",
                    user: None,
                    message: format!(
                        "persona `{}` sets {} `{}`, which does not exist in the tenant; {known}",
                        p.name.value, s.policy_type.value, name
                    ),
                });
            }
        }
    }
}

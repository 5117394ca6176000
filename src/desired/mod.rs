//! Desired state: what every user in scope should have, computed from the
//! manifests and the live tenant.
//!
//! [`decide`] holds the one order of precedence for a user (`ignore`, scope,
//! leaver, override, first matching rule), shared with `roster explain`;
//! [`numbering`] decides numbers (pins, sticky numbers, lowest free);
//! [`checks`] finds the tenant-wide problems. The per-user first pass
//! ([`first_pass`]) runs split over the cores ([`split`]); numbers are
//! allocated after, sequentially. Pure and deterministic (whatever the
//! split): no I/O, no clock; O(n log n) overall.

mod checks;
pub mod decide;
mod first_pass;
mod held;
pub use held::HeldIndex;
mod keys;
mod numbering;
pub(crate) mod split;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::issue::Issue;
use crate::live::{LiveState, PolicyType};
use crate::manifest::{Manifest, Persona};
use crate::numbers::{E164, NumberType};

pub use decide::{Decision, Engine, RuleTrail, Trail, Verdict};
pub use held::HeldNumbers;

/// Why a user has its persona (or its leaver treatment); the plan format
/// writes it as `{"kind": "rule", "name": …}`, `{"kind": "override"}` or
/// `{"kind": "leaver"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// The rule of this name matched first.
    Rule {
        name: String,
    },
    Override,
    Leaver,
    /// Back to the state before an apply (`roster revert`); only in a plan
    /// with `revert_of`.
    Revert,
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
    pub policies: Arc<BTreeMap<PolicyType, Option<String>>>,
    /// Numbers the user holds that must go.
    pub release: Vec<E164>,
    /// A number the user must be given.
    pub assign: Option<NewNumber>,
}

#[derive(Debug, Clone, Default)]
pub struct DesiredState {
    pub users: Vec<DesiredUser>,
    /// Indexes of users in scope that no rule matched.
    pub unmatched: Vec<usize>,
    pub in_scope: usize,
    pub warnings: Vec<Issue>,
    pub errors: Vec<Issue>,
    /// Numbers in quarantine that a range would otherwise offer, in number
    /// order (the plan shows them).
    pub quarantined: Vec<Quarantined>,
    /// The numbers each user of the live state holds (found once for pass
    /// 1, kept for the diff's fingerprints; empty when not made).
    pub held: HeldIndex,
}

/// A number in quarantine: released by an earlier apply, not allocated
/// again before `until` (times are RFC 3339 UTC, as the quarantine records
/// them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldBack {
    pub until: String,
    pub released_at: String,
    /// Who held it (UPN or object id); empty when unknown.
    pub holder: String,
}

impl HeldBack {
    /// Whether `user` (its UPN or object id) is the one it was released
    /// from: giving a number back to its holder rings for no new person.
    pub fn held_by(&self, upn: &str, id: &str) -> bool {
        let h = self.holder.trim();
        !h.is_empty() && (h.eq_ignore_ascii_case(upn.trim()) || h.eq_ignore_ascii_case(id.trim()))
    }
}

/// A number in quarantine that a range of the manifests would otherwise
/// offer, as the plan lists it (`quarantine` of `docs/plan-format.md`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Quarantined {
    pub number: E164,
    /// The first range that contains it.
    pub range: String,
    /// When it comes free (RFC 3339, UTC).
    pub until: String,
    /// When roster released it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub released_at: String,
    /// Who held it (UPN or object id).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub holder: String,
}

/// What a plan depends on besides the manifests and the live tenant: the
/// numbers in quarantine and the date (no clock inside the core: the
/// caller reads both).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Numbers in quarantine, and when each comes free: allocation passes
    /// over them, and a pin takes one only with `take-quarantined`.
    pub held_back: BTreeMap<E164, HeldBack>,
    /// Today (`YYYY-MM-DD`): user overrides that expired by then no longer
    /// apply. `None`: no override expires.
    pub today: Option<String>,
    /// Overrides that expire by this day (`YYYY-MM-DD`) get a warning.
    pub warn_until: Option<String>,
}

impl Context {
    /// The numbers in quarantine that count for `manifest`: none when its
    /// `numbers quarantine` is `0` (the quarantine is off, whatever an
    /// earlier setting recorded).
    pub fn quarantine(&self, manifest: &Manifest) -> &BTreeMap<E164, HeldBack> {
        static NONE: BTreeMap<E164, HeldBack> = BTreeMap::new();
        if manifest.settings().numbers.quarantine.is_zero() {
            &NONE
        } else {
            &self.held_back
        }
    }
}

/// The desired state of every user; nothing held back, nothing expires.
pub fn compute(manifest: &Manifest, live: &LiveState) -> DesiredState {
    compute_with(manifest, live, &Context::default())
}

/// The desired state of every user, allocating none of the numbers held
/// back (in quarantine, see [`crate::state::quarantine`]; a pin takes one
/// only with `take-quarantined`) and applying no user override that
/// expired by `ctx.today`.
pub fn compute_with(manifest: &Manifest, live: &LiveState, ctx: &Context) -> DesiredState {
    compute_split(manifest, live, ctx, split::threads_for(live.users.len()))
}

/// [`compute_with`] with pass 1 split over `threads` threads (the result is
/// the same for any number).
fn compute_split(
    manifest: &Manifest,
    live: &LiveState,
    ctx: &Context,
    threads: usize,
) -> DesiredState {
    let engine = Engine::with_today(manifest, live, ctx.today.as_deref());
    let settings = manifest.settings();
    let mut out = DesiredState::default();
    // Who holds which number is found on another core while the checks run.
    let held = std::thread::scope(|s| {
        let held = (threads > 1).then(|| s.spawn(|| HeldNumbers::of(live)));
        checks::check_policies(manifest, live, &mut out);
        checks::check_overrides(manifest, live, &mut out);
        checks::check_groups(manifest, live, &mut out);
        checks::check_override_dates(manifest, ctx, &mut out);
        match held {
            Some(h) => h.join().expect("finding held numbers does not panic"),
            None => HeldNumbers::of(live),
        }
    });
    // Policy types some persona manages: what a leaver reset removes.
    let managed_types: BTreeSet<&str> = manifest
        .personas
        .iter()
        .flat_map(|p| p.policies.iter().map(|s| s.policy_type.value.as_str()))
        .collect();
    // Every persona's policies, with the tenant's spelling of each name,
    // resolved once (not once per user).
    let persona_policies: FastMap<&str, Arc<BTreeMap<PolicyType, Option<String>>>> = manifest
        .personas
        .iter()
        .map(|p| (p.name.value.as_str(), Arc::new(policies_of(p, live))))
        .collect();
    let leaver_policies: Arc<BTreeMap<PolicyType, Option<String>>> =
        Arc::new(if settings.leavers.reset_policies {
            managed_types
                .iter()
                .map(|t| (PolicyType::new(t), None))
                .collect()
        } else {
            BTreeMap::new()
        });
    // (In reverse, so the first of two personas of one name wins, as
    // `Manifest::persona` finds it.)
    let persona_ranges: FastMap<&str, Vec<&crate::manifest::NumberRange>> = manifest
        .personas
        .iter()
        .rev()
        .map(|p| (p.name.value.as_str(), numbering::ranges_of(manifest, p)))
        .collect();
    let reserved = numbering::reserved(manifest);
    let rule_personas: Vec<Option<&Persona>> = manifest
        .rules
        .iter()
        .map(|r| manifest.persona(&r.persona.value))
        .collect();
    let pass1 = first_pass::Pass1 {
        rule_personas: &rule_personas,
        manifest,
        live,
        engine: &engine,
        held: &held,
        persona_ranges: &persona_ranges,
        reserved: &reserved,
        persona_policies: &persona_policies,
        leaver_policies: &leaver_policies,
        release_leavers: settings.leavers.release_number,
    };
    // Pass 1, split over the cores (each user on its own): decision,
    // persona, policies, and which numbers go or are wanted. Joined in
    // user order, so the result does not depend on the split.
    let parts = split::map_chunks_with(live.users.len(), threads, |range| pass1.run(range));
    let mut wants: Vec<(usize, numbering::Want)> = Vec::new();
    out.users
        .reserve_exact(parts.iter().map(|p| p.users.len()).sum::<usize>());
    for part in parts {
        let base = out.users.len();
        out.in_scope += part.in_scope;
        out.unmatched.extend(part.unmatched);
        wants.extend(part.wants.into_iter().map(|(i, w)| (base + i, w)));
        out.users.extend(part.users);
    }

    out.held = held.numbers();
    // Pass 2: pins and allocation.
    let held_back = ctx.quarantine(manifest);
    numbering::allocate(manifest, live, held_back, &mut out, wants);
    out.quarantined = numbering::quarantined(manifest, live, held_back);
    out.errors.sort();
    out.warnings.sort();
    out
}

/// A map read once per user: hashed with foldhash rather than SipHash (the
/// keys are the manifests' names, not input an attacker picks per lookup).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// A persona's policies with the tenant's spelling of each policy name.
fn policies_of(persona: &Persona, live: &LiveState) -> BTreeMap<PolicyType, Option<String>> {
    persona
        .policies
        .iter()
        .map(|s| {
            let canonical = s.policy.as_ref().map(|name| {
                live.policy(&s.policy_type.value, name)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| name.clone())
            });
            (PolicyType::new(&s.policy_type.value), canonical)
        })
        .collect()
}

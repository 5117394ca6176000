//! Personas from the policy bundles users hold: one persona per distinct
//! bundle of direct policy assignments (policy type -> name) held by at
//! least `min` users, named after what its users share, with the number
//! rule its users' numbers show (all hold one: the ranges they fall in;
//! none holds any: `number #false`; a mix: numbers not managed). Then which
//! personas each user already satisfies: the ones a plan would change
//! nothing for. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::ranges::{RangeDraft, RangeIndex};
use super::slug;
use crate::catalog;
use crate::live::{LiveState, NumberAssignment};
use crate::numbers::E164;

/// One user import describes (in scope, enabled).
#[derive(Debug, Clone)]
pub struct Person {
    /// Index into [`LiveState::users`].
    pub user: usize,
    /// Index into [`Bundles::keys`].
    pub bundle: u32,
    /// Its primary number, when it holds exactly one.
    pub primary: Option<E164>,
    /// Primary numbers held.
    pub primaries: usize,
    /// Whether it holds any number at all.
    pub holds_any: bool,
}

/// A policy bundle: canonical policy type -> lower-cased policy name.
pub type Key = BTreeMap<String, String>;

/// What a persona says about numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberDraft {
    Unmanaged,
    Forbidden,
    /// Indexes into the ranges, in the order they are tried.
    Ranges(Vec<usize>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PersonaDraft {
    pub name: String,
    pub description: String,
    /// Policy type -> the tenant's spelling of the name (`None`: `Global`).
    pub policies: Vec<(String, Option<String>)>,
    pub number: NumberDraft,
    /// Users holding exactly this bundle.
    pub holders: usize,
}

/// How well a user already matches a persona.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// A plan would change nothing.
    Exact,
    /// Policies match; its one number lies outside the persona's ranges
    /// (a `number=` pin keeps it).
    Pin,
}

/// Personas at most, the most held bundles first.
pub const MAX_PERSONAS: usize = 1000;

/// Every person, and the distinct bundles they hold.
pub fn people(
    live: &LiveState,
    pop: &[usize],
    held: &HashMap<&str, Vec<&NumberAssignment>>,
) -> (Vec<Person>, Vec<Key>) {
    let mut ids: HashMap<Key, u32> = HashMap::new();
    let mut keys: Vec<Key> = Vec::new();
    let people = pop
        .iter()
        .map(|&i| {
            let u = &live.users[i];
            let key: Key = u
                .policies
                .iter()
                .filter_map(|(t, n)| Some((catalog::policy_type(t)?.to_string(), n.to_lowercase())))
                .collect();
            let bundle = *ids.entry(key.clone()).or_insert_with(|| {
                keys.push(key);
                (keys.len() - 1) as u32
            });
            let numbers: &[&NumberAssignment] = held.get(u.id.as_str()).map_or(&[], |v| v);
            let primaries: Vec<E164> = numbers
                .iter()
                .filter(|n| n.is_primary())
                .map(|n| n.number)
                .collect();
            Person {
                user: i,
                bundle,
                primary: (primaries.len() == 1).then(|| primaries[0]),
                primaries: primaries.len(),
                holds_any: !numbers.is_empty(),
            }
        })
        .collect();
    (people, keys)
}

/// Personas for the bundles held by at least `min` people (most held
/// first), each with the bundle it stands for.
pub fn infer(
    live: &LiveState,
    people: &[Person],
    keys: &[Key],
    ranges: &[RangeDraft],
    index: &RangeIndex,
    min: usize,
) -> (Vec<PersonaDraft>, Vec<u32>) {
    let mut members: Vec<Vec<&Person>> = vec![Vec::new(); keys.len()];
    for p in people {
        members[p.bundle as usize].push(p);
    }
    let mut chosen: Vec<u32> = (0..keys.len() as u32)
        .filter(|&b| members[b as usize].len() >= min.max(1))
        .collect();
    chosen.sort_by(|a, b| {
        let (ma, mb) = (members[*a as usize].len(), members[*b as usize].len());
        mb.cmp(&ma).then(keys[*a as usize].cmp(&keys[*b as usize]))
    });
    // Beyond this, a persona per bundle describes nothing a reader can use
    // (and persona ids are `u16`): the rest fold or become overrides.
    chosen.truncate(MAX_PERSONAS);
    // How many chosen bundles hold each (type, name): rare ones name personas.
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    for &b in &chosen {
        for (t, n) in &keys[b as usize] {
            *seen.entry((t.as_str(), n.as_str())).or_default() += 1;
        }
    }
    let managed: BTreeSet<&String> = chosen
        .iter()
        .flat_map(|&b| keys[b as usize].keys())
        .collect();
    let census = census(live, people);
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for &b in &chosen {
        let key = &keys[b as usize];
        let ms = &members[b as usize];
        let policies: Vec<(String, Option<String>)> = if key.is_empty() {
            // No direct assignments: say so for every type roster manages.
            managed.iter().map(|t| (t.to_string(), None)).collect()
        } else {
            key.iter()
                .map(|(t, n)| (t.clone(), Some(spelling(live, t, n, ms))))
                .collect()
        };
        let number = number_rule(ms, ranges, index);
        let rare = key
            .iter()
            .min_by_key(|(t, n)| (seen[&(t.as_str(), n.as_str())], t.as_str()))
            .map(|(t, _)| spelling(live, t, &key[t], ms));
        let (name, description) = name(live, ms, &census, rare.as_deref(), &mut used);
        out.push(PersonaDraft {
            name,
            description,
            policies,
            number,
            holders: ms.len(),
        });
    }
    (out, chosen)
}

/// The tenant's spelling of a policy name.
fn spelling(live: &LiveState, policy_type: &str, lower: &str, ms: &[&Person]) -> String {
    if let Some(p) = live.policy(policy_type, lower) {
        return p.name.clone();
    }
    ms.iter()
        .find_map(|p| {
            live.users[p.user]
                .policies
                .iter()
                .find(|(t, n)| {
                    catalog::policy_type(t) == Some(policy_type) && n.to_lowercase() == lower
                })
                .map(|(_, n)| n.clone())
        })
        .unwrap_or_else(|| lower.to_string())
}

fn number_rule(ms: &[&Person], ranges: &[RangeDraft], index: &RangeIndex) -> NumberDraft {
    if ms.iter().all(|p| !p.holds_any) {
        return NumberDraft::Forbidden;
    }
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for p in ms {
        match p.primary.and_then(|n| index.range_of(n)) {
            Some(r) => *counts.entry(r).or_default() += 1,
            None => return NumberDraft::Unmanaged,
        }
    }
    let mut rs: Vec<(usize, usize)> = counts.into_iter().collect();
    rs.sort_by(|a, b| b.1.cmp(&a.1).then(ranges[a.0].name.cmp(&ranges[b.0].name)));
    NumberDraft::Ranges(rs.into_iter().map(|(r, _)| r).collect())
}

/// Attributes a persona may be named after, in order of preference.
const NAMING: &[&str] = &[
    "department",
    "city",
    "officeLocation",
    "jobTitle",
    "employeeType",
    "companyName",
];

/// How many people hold each value of each naming attribute.
fn census(live: &LiveState, people: &[Person]) -> HashMap<(usize, String), usize> {
    let mut out = HashMap::new();
    for attr in NAMING {
        let Some(id) = catalog::attribute(attr) else {
            continue;
        };
        for p in people {
            if let Some(v) = live.users[p.user]
                .attr(id)
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                *out.entry((id, v.to_lowercase())).or_default() += 1;
            }
        }
    }
    out
}

/// A unique name from a value most members share and few others hold,
/// and a description.
fn name(
    live: &LiveState,
    ms: &[&Person],
    census: &HashMap<(usize, String), usize>,
    rare_policy: Option<&str>,
    used: &mut BTreeSet<String>,
) -> (String, String) {
    // (score, share %, attribute, value), best first: score is the share
    // of members holding the value times the share of its holders that
    // are members, in per mille.
    let mut shared: Vec<(usize, usize, &str, String)> = Vec::new();
    for attr in NAMING {
        let Some(id) = catalog::attribute(attr) else {
            continue;
        };
        let mut counts: BTreeMap<String, (usize, String)> = BTreeMap::new();
        for p in ms {
            if let Some(v) = live.users[p.user]
                .attr(id)
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                let e = counts.entry(v.to_lowercase()).or_insert((0, v.to_string()));
                e.0 += 1;
            }
        }
        if let Some((k, (c, v))) = counts
            .iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.0.cmp(a.0)))
        {
            let all = census.get(&(id, k.clone())).copied().unwrap_or(*c).max(1);
            let share = c * 100 / ms.len().max(1);
            shared.push((share * (c * 100 / all) / 10, share, attr, v.clone()));
        }
    }
    shared.sort_by_key(|s| std::cmp::Reverse(s.0));
    let strong: Vec<&(usize, usize, &str, String)> = shared.iter().filter(|s| s.0 >= 300).collect();
    let policy = rare_policy.map(slug).filter(|s| !s.is_empty());
    let mut candidates: Vec<String> = strong.iter().map(|s| slug(&s.3)).collect();
    if let (Some(first), Some(p)) = (strong.first(), &policy) {
        candidates.push(format!("{}-{p}", slug(&first.3)));
    }
    candidates.extend(policy.clone());
    if rare_policy.is_none() {
        candidates.push("no-direct-policies".into());
    }
    let base = candidates
        .iter()
        .find(|c| !c.is_empty() && !used.contains(*c))
        .cloned()
        .unwrap_or_else(|| {
            let stem = candidates.first().cloned().filter(|c| !c.is_empty());
            let stem = stem.unwrap_or_else(|| "persona".into());
            (2..)
                .map(|i| format!("{stem}-{i}"))
                .find(|c| !used.contains(c))
                .unwrap_or(stem)
        });
    used.insert(base.clone());
    let mut description = format!(
        "Imported: {} user{} hold{} this bundle of policies",
        ms.len(),
        if ms.len() == 1 { "" } else { "s" },
        if ms.len() == 1 { "s" } else { "" },
    );
    if let Some((_, share, attr, value)) = strong.first() {
        description.push_str(&format!("; {share}% have {attr} \"{value}\""));
    }
    (base, description)
}

/// The personas each person fits (exactly, or with a pin), best first:
/// its own bundle's persona, then the persona managing most policy types.
pub fn fits(
    people: &[Person],
    keys: &[Key],
    personas: &[PersonaDraft],
    index: &RangeIndex,
) -> Vec<Vec<(u16, Fit)>> {
    // Policy fit per bundle: every policy the persona names is the user's.
    let wanted: Vec<Vec<(&str, Option<String>)>> = personas
        .iter()
        .map(|p| {
            p.policies
                .iter()
                .map(|(t, n)| (t.as_str(), n.as_ref().map(|n| n.to_lowercase())))
                .collect()
        })
        .collect();
    let mut order: Vec<u16> = (0..personas.len() as u16).collect();
    order.sort_by_key(|&p| std::cmp::Reverse(personas[p as usize].policies.len()));
    let by_bundle: Vec<Vec<u16>> = keys
        .iter()
        .map(|key| {
            order
                .iter()
                .copied()
                .filter(|&p| {
                    wanted[p as usize]
                        .iter()
                        .all(|(t, n)| key.get(*t) == n.as_ref())
                })
                .collect()
        })
        .collect();
    people
        .iter()
        .map(|person| {
            let mut out: Vec<(u16, Fit)> = by_bundle[person.bundle as usize]
                .iter()
                .filter_map(|&p| {
                    number_fit(person, &personas[p as usize].number, index).map(|f| (p, f))
                })
                .collect();
            // Exact fits first; the order above within each kind.
            out.sort_by_key(|(_, f)| *f != Fit::Exact);
            out
        })
        .collect()
}

fn number_fit(p: &Person, rule: &NumberDraft, index: &RangeIndex) -> Option<Fit> {
    match rule {
        NumberDraft::Unmanaged => Some(Fit::Exact),
        NumberDraft::Forbidden => (!p.holds_any).then_some(Fit::Exact),
        NumberDraft::Ranges(rs) => {
            let n = p.primary?;
            if index.range_of(n).is_some_and(|r| rs.contains(&r)) {
                Some(Fit::Exact)
            } else {
                Some(Fit::Pin)
            }
        }
    }
}

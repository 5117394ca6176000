//! Rules learnt as a small decision list: each round picks the condition
//! (one attribute equal to any of a few values, one group, or two such
//! conditions together) and persona that explain the most users still
//! unexplained, counting every user it would wrongly catch against it
//! (`PENALTY` times: that user becomes an override), and appends it; users
//! a rule catches are out of later rounds, so first-match gives each user
//! the persona the rule was learnt for. A last catch-all only when it pays
//! the same way. Counts are kept per attribute value and persona and
//! lowered as users are explained, so a round costs the distinct values,
//! not the users. Pure and deterministic: no I/O, ties broken by names.

use std::cmp::Reverse;
use std::collections::HashMap;

use crate::catalog::{self, AttrId, MEMBER_OF};
use crate::live::LiveState;
use crate::rules::normalize;

/// A user wrongly caught costs this many users explained.
const PENALTY: i64 = 4;
/// A value must explain at least this many users to be written.
const SUPPORT: u32 = 2;
/// Values of one condition, at most (readability).
const MAX_VALUES: usize = 12;
/// Two-condition candidates tried per round, at most.
const PAIR_TRIES: usize = 10;
/// Users a two-condition candidate's second condition is chosen from, at
/// most (an even sample of the users the first condition holds for).
const PAIR_SAMPLE: usize = 3000;
const MAX_RULES: usize = 400;

/// Attributes that identify a person: never a rule's condition.
const IDENTIFYING: &[&str] = &[
    "userPrincipalName",
    "mail",
    "displayName",
    "givenName",
    "surname",
    "employeeId",
];

/// `attribute` equals one of `values` (for `memberOf`: one group's name).
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    pub attr: AttrId,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleDraft {
    pub persona: u16,
    /// Empty: everyone (the catch-all).
    pub conds: Vec<Cond>,
    /// Users the rule catches, and how many of them it explains.
    pub caught: usize,
    pub explained: usize,
}

pub struct Learned {
    pub rules: Vec<RuleDraft>,
    /// Per person: the rule that catches it first.
    pub rule_of: Vec<Option<u32>>,
}

/// Feature `f` of a person has value `v`: attributes by index in
/// `Features::attrs`, groups as the last feature.
struct Features {
    attrs: Vec<AttrId>,
    display: Vec<Vec<String>>,
    /// Per person, its (feature, value) pairs.
    pairs: Vec<Vec<(u8, u32)>>,
    /// Per feature and value, the persons holding it.
    lists: Vec<Vec<Vec<u32>>>,
}

impl Features {
    fn build(live: &LiveState, users: &[usize]) -> Features {
        let mut attrs: Vec<AttrId> = (0..catalog::USER_ATTRIBUTE_COUNT)
            .filter(|&a| !IDENTIFYING.contains(&catalog::ATTRIBUTES[a]))
            .collect();
        attrs.push(MEMBER_OF);
        let nf = attrs.len();
        let mut ids: Vec<HashMap<String, u32>> = vec![HashMap::new(); nf];
        // Per feature and value: spellings and how often each is written.
        let mut spellings: Vec<Vec<HashMap<String, u32>>> = vec![Vec::new(); nf];
        // Groups usable by name: display names no other group shares.
        let mut names: HashMap<String, usize> = HashMap::new();
        for g in &live.groups {
            *names.entry(normalize(&g.display_name)).or_default() += 1;
        }
        let usable: Vec<bool> = live
            .groups
            .iter()
            .map(|g| !g.display_name.trim().is_empty() && names[&normalize(&g.display_name)] == 1)
            .collect();
        let mut pairs = Vec::with_capacity(users.len());
        for &i in users {
            let u = &live.users[i];
            let mut mine = Vec::with_capacity(nf + u.groups.len());
            for (f, &a) in attrs[..nf - 1].iter().enumerate() {
                let Some(raw) = u.attr(a).map(str::trim).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let v = intern(&mut ids[f], &mut spellings[f], raw.to_lowercase());
                *spellings[f][v as usize].entry(raw.to_string()).or_default() += 1;
                mine.push((f as u8, v));
            }
            for &g in &u.groups {
                if usable[g as usize] {
                    let name = live.groups[g as usize].display_name.trim().to_string();
                    let v = intern(
                        &mut ids[nf - 1],
                        &mut spellings[nf - 1],
                        name.to_lowercase(),
                    );
                    *spellings[nf - 1][v as usize].entry(name).or_default() += 1;
                    mine.push(((nf - 1) as u8, v));
                }
            }
            pairs.push(mine);
        }
        // The most written spelling of each value, first in order on a tie.
        let display: Vec<Vec<String>> = spellings
            .into_iter()
            .map(|vs| {
                vs.into_iter()
                    .map(|s| {
                        s.into_iter()
                            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                            .map(|(k, _)| k)
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        let mut lists: Vec<Vec<Vec<u32>>> =
            display.iter().map(|d| vec![Vec::new(); d.len()]).collect();
        for (u, mine) in pairs.iter().enumerate() {
            for &(f, v) in mine {
                lists[f as usize][v as usize].push(u as u32);
            }
        }
        Features {
            attrs,
            display,
            pairs,
            lists,
        }
    }

    fn groups_feature(&self) -> u8 {
        (self.attrs.len() - 1) as u8
    }

    fn has(&self, u: u32, f: u8, values: &[u32]) -> bool {
        self.pairs[u as usize]
            .iter()
            .any(|&(g, v)| g == f && values.contains(&v))
    }
}

fn intern(
    ids: &mut HashMap<String, u32>,
    spellings: &mut Vec<HashMap<String, u32>>,
    key: String,
) -> u32 {
    let next = ids.len() as u32;
    let v = *ids.entry(key).or_insert(next);
    if v == next {
        spellings.push(HashMap::new());
    }
    v
}

/// A candidate rule: persona, conditions (feature, values), its gain.
#[derive(Debug, Clone)]
struct Candidate {
    persona: u16,
    conds: Vec<(u8, Vec<u32>)>,
    gain: i64,
}

impl Candidate {
    /// Larger is better; equal gains go to fewer conditions, then names.
    fn rank(&self) -> (i64, Reverse<usize>, Reverse<u16>, Reverse<Vec<u8>>) {
        (
            self.gain,
            Reverse(self.conds.len()),
            Reverse(self.persona),
            Reverse(self.conds.iter().map(|c| c.0).collect()),
        )
    }
}

/// The counts of the persons not yet caught by a rule.
struct Counts {
    alive: Vec<bool>,
    left: usize,
    /// Per feature and value: persons.
    total: Vec<Vec<u32>>,
    /// (feature, value, persona) -> persons the persona is a goal of.
    fitting: HashMap<(u8, u32, u16), u32>,
    /// (feature, value, persona) -> persons it would not change, but
    /// not their goal (it manages less than their own persona).
    near: HashMap<(u8, u32, u16), u32>,
    per_persona: Vec<u32>,
    per_persona_near: Vec<u32>,
}

/// What each person should get: the personas that are its goal (its own
/// bundle's, or, without one, every persona that would change nothing),
/// and the personas that would change nothing but are not its goal.
pub struct Goals {
    pub target: Vec<Vec<u16>>,
    pub near: Vec<Vec<u16>>,
}

impl Goals {
    fn gain_of(&self, u: u32, p: u16) -> i64 {
        if self.target[u as usize].contains(&p) {
            1
        } else if self.near[u as usize].contains(&p) {
            -1
        } else {
            -PENALTY
        }
    }
}

impl Counts {
    fn new(feat: &Features, goals: &Goals, personas: usize) -> Counts {
        let mut c = Counts {
            alive: vec![true; feat.pairs.len()],
            left: feat.pairs.len(),
            total: feat.display.iter().map(|d| vec![0; d.len()]).collect(),
            fitting: HashMap::new(),
            near: HashMap::new(),
            per_persona: vec![0; personas],
            per_persona_near: vec![0; personas],
        };
        for (u, mine) in feat.pairs.iter().enumerate() {
            for &(f, v) in mine {
                c.total[f as usize][v as usize] += 1;
                for &p in &goals.target[u] {
                    *c.fitting.entry((f, v, p)).or_default() += 1;
                }
                for &p in &goals.near[u] {
                    *c.near.entry((f, v, p)).or_default() += 1;
                }
            }
            for &p in &goals.target[u] {
                c.per_persona[p as usize] += 1;
            }
            for &p in &goals.near[u] {
                c.per_persona_near[p as usize] += 1;
            }
        }
        c
    }

    fn remove(&mut self, feat: &Features, goals: &Goals, u: u32) {
        fn lower(map: &mut HashMap<(u8, u32, u16), u32>, key: (u8, u32, u16)) {
            if let Some(c) = map.get_mut(&key) {
                *c -= 1;
                if *c == 0 {
                    map.remove(&key);
                }
            }
        }
        self.alive[u as usize] = false;
        self.left -= 1;
        for &(f, v) in &feat.pairs[u as usize] {
            self.total[f as usize][v as usize] -= 1;
            for &p in &goals.target[u as usize] {
                lower(&mut self.fitting, (f, v, p));
            }
            for &p in &goals.near[u as usize] {
                lower(&mut self.near, (f, v, p));
            }
        }
        for &p in &goals.target[u as usize] {
            self.per_persona[p as usize] -= 1;
        }
        for &p in &goals.near[u as usize] {
            self.per_persona_near[p as usize] -= 1;
        }
    }
}

/// The values worth writing for one persona out of (value, fitting,
/// total) counts: those explaining more than they wrongly catch, best
/// first; groups one at a time (a person is in many nested groups).
fn pick(mut vals: Vec<Tally>, one: bool, display: &[String]) -> (Vec<u32>, i64) {
    vals.retain(|t| t.fit >= SUPPORT && t.gain() > 0);
    vals.sort_by(|a, b| {
        b.gain()
            .cmp(&a.gain())
            .then_with(|| display[a.value as usize].cmp(&display[b.value as usize]))
    });
    vals.truncate(if one { 1 } else { MAX_VALUES });
    let total = vals.iter().map(Tally::gain).sum();
    (vals.into_iter().map(|t| t.value).collect(), total)
}

/// The persons of one value: its goal for the persona, near it, all.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    value: u32,
    fit: u32,
    near: u32,
    all: u32,
}

impl Tally {
    fn gain(&self) -> i64 {
        let wrong = (self.all - self.fit - self.near) as i64;
        self.fit as i64 - self.near as i64 - PENALTY * wrong
    }
}

/// Learn the rules for persons with these goals.
pub fn learn(
    live: &LiveState,
    users: &[usize],
    goals: &Goals,
    personas: usize,
    min_gain: usize,
) -> Learned {
    let feat = Features::build(live, users);
    let mut counts = Counts::new(&feat, goals, personas);
    let mut rules = Vec::new();
    let mut rule_of: Vec<Option<u32>> = vec![None; users.len()];
    let min_gain = min_gain.max(1) as i64;
    while rules.len() < MAX_RULES && counts.left > 0 {
        let Some(best) = round(&feat, &counts, goals) else {
            break;
        };
        if best.gain < min_gain {
            break;
        }
        let caught = catch(&feat, &counts, &best);
        let explained = caught
            .iter()
            .filter(|&&u| goals.gain_of(u, best.persona) > -PENALTY)
            .count();
        for &u in &caught {
            rule_of[u as usize] = Some(rules.len() as u32);
            counts.remove(&feat, goals, u);
        }
        rules.push(RuleDraft {
            persona: best.persona,
            conds: best
                .conds
                .iter()
                .map(|(f, vs)| Cond {
                    attr: feat.attrs[*f as usize],
                    values: vs
                        .iter()
                        .map(|v| feat.display[*f as usize][*v as usize].clone())
                        .collect(),
                })
                .collect(),
            caught: caught.len(),
            explained,
        });
    }
    // Everyone else: only when it explains enough more than it gets wrong.
    let everyone = |p: u16| Tally {
        value: 0,
        fit: counts.per_persona[p as usize],
        near: counts.per_persona_near[p as usize],
        all: counts.left as u32,
    };
    let best = (0..personas as u16).max_by_key(|&p| (everyone(p).gain(), Reverse(p)));
    if let Some(p) = best.filter(|&p| everyone(p).gain() >= min_gain && rules.len() < MAX_RULES) {
        let t = everyone(p);
        for (u, r) in rule_of.iter_mut().enumerate() {
            if counts.alive[u] {
                *r = Some(rules.len() as u32);
            }
        }
        rules.push(RuleDraft {
            persona: p,
            conds: Vec::new(),
            caught: counts.left,
            explained: (t.fit + t.near) as usize,
        });
    }
    Learned { rules, rule_of }
}

/// The best candidate of a round.
fn round(feat: &Features, counts: &Counts, goals: &Goals) -> Option<Candidate> {
    let groups = feat.groups_feature();
    let mut buckets: HashMap<(u8, u16), Vec<Tally>> = HashMap::new();
    for (&(f, v, p), &c) in &counts.fitting {
        // Neither a rule's value nor a loose one: most of a large tenant's
        // (value, persona) pairs (postal codes, phone extensions).
        if c < SUPPORT {
            continue;
        }
        buckets.entry((f, p)).or_default().push(Tally {
            value: v,
            fit: c,
            near: counts.near.get(&(f, v, p)).copied().unwrap_or(0),
            all: counts.total[f as usize][v as usize],
        });
    }
    let mut keys: Vec<(u8, u16)> = buckets.keys().copied().collect();
    keys.sort();
    let mut best: Option<Candidate> = None;
    // (potential, feature, persona, loose values) for two-condition rules.
    let mut loose: Vec<(i64, u8, u16, Vec<u32>)> = Vec::new();
    for (f, p) in keys {
        let vals = &buckets[&(f, p)];
        let display = &feat.display[f as usize];
        let (vs, gain) = pick(vals.clone(), f == groups, display);
        if !vs.is_empty() {
            consider(
                &mut best,
                Candidate {
                    persona: p,
                    conds: vec![(f, vs)],
                    gain,
                },
            );
        }
        let mut lv: Vec<&Tally> = vals
            .iter()
            .filter(|t| t.fit >= SUPPORT && t.fit * 5 >= t.all)
            .collect();
        lv.sort_by(|a, b| {
            b.fit
                .cmp(&a.fit)
                .then_with(|| display[a.value as usize].cmp(&display[b.value as usize]))
        });
        lv.truncate(if f == groups { 1 } else { MAX_VALUES });
        let potential: i64 = lv.iter().map(|t| t.fit as i64).sum();
        if potential > 0 {
            loose.push((potential, f, p, lv.into_iter().map(|t| t.value).collect()));
        }
    }
    loose.sort_by(|a, b| b.0.cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    for (potential, f, p, vs) in loose.into_iter().take(PAIR_TRIES) {
        if best.as_ref().is_some_and(|b| b.gain >= potential) {
            break;
        }
        if let Some(c) = pair(feat, counts, goals, f, p, vs) {
            consider(&mut best, c);
        }
    }
    best
}

fn consider(best: &mut Option<Candidate>, c: Candidate) {
    if best.as_ref().is_none_or(|b| c.rank() > b.rank()) {
        *best = Some(c);
    }
}

/// The best second condition for `f` in `vs` selecting persona `p`:
/// chosen on an even sample of the users the first condition holds for,
/// then counted exactly.
fn pair(
    feat: &Features,
    counts: &Counts,
    goals: &Goals,
    f: u8,
    p: u16,
    vs: Vec<u32>,
) -> Option<Candidate> {
    let members: Vec<u32> = vs
        .iter()
        .flat_map(|&v| feat.lists[f as usize][v as usize].iter().copied())
        .filter(|&u| counts.alive[u as usize])
        .collect();
    let stride = (members.len() / PAIR_SAMPLE).max(1);
    let mut seen: HashMap<(u8, u32), Tally> = HashMap::new();
    for &u in members.iter().step_by(stride) {
        let g = goals.gain_of(u, p);
        for &(f2, v2) in &feat.pairs[u as usize] {
            if f2 != f {
                let e = seen.entry((f2, v2)).or_insert(Tally {
                    value: v2,
                    ..Tally::default()
                });
                e.fit += (g == 1) as u32;
                e.near += (g == -1) as u32;
                e.all += 1;
            }
        }
    }
    let mut by_feature: HashMap<u8, Vec<Tally>> = HashMap::new();
    for ((f2, _), t) in seen {
        by_feature.entry(f2).or_default().push(t);
    }
    let mut features: Vec<u8> = by_feature.keys().copied().collect();
    features.sort();
    let mut best: Option<Candidate> = None;
    for f2 in features {
        let vals = by_feature.remove(&f2).unwrap_or_default();
        let (vs2, gain) = pick(
            vals,
            f2 == feat.groups_feature(),
            &feat.display[f2 as usize],
        );
        if !vs2.is_empty() {
            let mut conds = vec![(f, vs.clone()), (f2, vs2)];
            conds.sort_by_key(|c| c.0);
            consider(
                &mut best,
                Candidate {
                    persona: p,
                    conds,
                    gain,
                },
            );
        }
    }
    let mut best = best?;
    if stride > 1 {
        let second = best.conds.iter().find(|x| x.0 != f)?;
        best.gain = members
            .iter()
            .filter(|&&u| feat.has(u, second.0, &second.1))
            .map(|&u| goals.gain_of(u, p))
            .sum();
    }
    Some(best)
}

/// The persons still unexplained that a candidate catches, in order.
fn catch(feat: &Features, counts: &Counts, c: &Candidate) -> Vec<u32> {
    let (f, vs) = &c.conds[0];
    let mut out: Vec<u32> = vs
        .iter()
        .flat_map(|v| feat.lists[*f as usize][*v as usize].iter().copied())
        .filter(|&u| counts.alive[u as usize])
        .filter(|&u| c.conds[1..].iter().all(|(f2, vs2)| feat.has(u, *f2, vs2)))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

//! The fast evaluator of conditions, the one the plan uses: every condition
//! of the scope and the rules broken into atoms (an "equals one of" list,
//! or one operator, on one attribute, or the groups a `memberOf` names; the
//! same test written twice is one atom), and the atoms indexed by
//! attribute, so that a user's value of an attribute is read, normalised
//! and tested once against every atom on it: one hash lookup for the
//! `equals` lists, one per distinct length for `starts-with` and
//! `ends-with`, one Aho-Corasick pass for `contains`, one `RegexSet` pass
//! for `matches`, and for `memberOf` the atoms of each of the user's
//! groups. That happens on a user's first read of the attribute (a user the
//! first rule matches pays for no other); after it a condition reads bits.
//!
//! It owns no meaning of its own: a condition holds here exactly when the
//! simple evaluator ([`super::holds`], which `explain` traces with) says
//! it does, which the property test below checks on random users and
//! conditions. A `memberOf` with operators (`starts-with` on group names…)
//! is left to the simple evaluator. Pure: no I/O.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use aho_corasick::AhoCorasick;
use regex::RegexSet;

use super::{Compiled, CompiledAttr, CompiledOp, Subject, normalized_into};
use crate::catalog::{AttrId, MEMBER_OF, USER_ATTRIBUTE_COUNT};
use crate::manifest::Pattern;

type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

// One bit per attribute in `Subject::done`.
const _: () = assert!(MEMBER_OF < 64);

/// A condition as the fast evaluator reads it (the shape of its
/// [`Compiled`]).
#[derive(Debug, Clone)]
enum Fast {
    All(Vec<Fast>),
    Any(Vec<Fast>),
    Not(Vec<Fast>),
    /// A condition on an attribute (`memberOf` too): it holds when all
    /// its atoms do.
    Attr(AttrId, Box<[u32]>),
    /// A `memberOf` condition with operators, evaluated as the simple
    /// evaluator does.
    Member(Box<CompiledAttr>),
}

/// The conditions of a rule (or of the scope), all of which must hold, as
/// the fast evaluator reads them: the atoms of the conditions on an
/// attribute at the top (most of them) in one flat list, tried first, then
/// the others.
#[derive(Debug, Clone, Default)]
pub struct Conjunction {
    /// (attribute, atom).
    head: Box<[(u32, u32)]>,
    rest: Box<[Fast]>,
}

impl Conjunction {
    /// Whether every condition holds for the subject.
    pub fn holds(&self, s: &Subject<'_>) -> bool {
        self.head.iter().all(|&(a, i)| atom(s, a as AttrId, i)) && holds_all_fast(&self.rest, s)
    }
}

fn holds_all_fast(conds: &[Fast], s: &Subject<'_>) -> bool {
    conds.iter().all(|c| holds_fast(c, s))
}

fn holds_fast(c: &Fast, s: &Subject<'_>) -> bool {
    match c {
        Fast::All(cs) => holds_all_fast(cs, s),
        Fast::Any(cs) => cs.iter().any(|c| holds_fast(c, s)),
        Fast::Not(cs) => !holds_all_fast(cs, s),
        Fast::Attr(a, atoms) => atoms.iter().all(|&i| atom(s, *a, i)),
        Fast::Member(m) => super::attr_holds(m, s),
    }
}

/// The verdict of atom `i` of attribute `a` for the subject, testing all
/// the atoms of `a` on the first read.
fn atom(s: &Subject<'_>, a: AttrId, i: u32) -> bool {
    if s.done.get() & (1 << a) == 0 {
        fill(s, a);
    }
    s.bits.get(i)
}

thread_local! {
    /// Where a value that needs lower-casing is normalised (reused).
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

fn fill(s: &Subject<'_>, a: AttrId) {
    if s.done.get() == 0 {
        touch(s);
    }
    s.done.set(s.done.get() | 1 << a);
    if a == MEMBER_OF {
        let members = &s.index.members;
        for atoms in s
            .user
            .groups
            .iter()
            .filter_map(|&g| members.get(g as usize))
        {
            atoms.iter().for_each(|&i| s.bits.set(i));
        }
        return;
    }
    let Some(ix) = s.index.attrs.get(a).and_then(Option::as_ref) else {
        return;
    };
    let set = |i: u32| s.bits.set(i);
    match s.user.attr(a) {
        None => ix.test(None, set),
        Some(raw) => SCRATCH.with_borrow_mut(|buf| {
            let v = normalized_into(raw, buf);
            ix.test((!v.is_empty()).then_some(v), set)
        }),
    }
}

/// Read the first byte of every attribute value the conditions use, all
/// at once, before the first is tested: the reads that miss the cache then
/// wait for memory together rather than one by one between two tests.
/// (It changes no verdict; on the bench, 3-4% less time with the compact
/// `live::Attrs`, about 20% with an allocation per value.)
fn touch(s: &Subject<'_>) {
    let mut x = 0u8;
    for &a in &s.index.used {
        if let Some(v) = s.user.attr(a) {
            x ^= v.as_bytes().first().copied().unwrap_or(0);
        }
    }
    std::hint::black_box(x);
}

/// The atoms' verdicts of one subject, one bit each.
pub(super) enum Bits {
    Inline([Cell<u64>; INLINE_WORDS]),
    Heap(Box<[Cell<u64>]>),
}

const INLINE_WORDS: usize = 8;

impl Bits {
    fn words(&self) -> &[Cell<u64>] {
        match self {
            Bits::Inline(w) => w,
            Bits::Heap(w) => w,
        }
    }

    fn get(&self, i: u32) -> bool {
        self.words()[i as usize / 64].get() >> (i % 64) & 1 == 1
    }

    fn set(&self, i: u32) {
        let w = &self.words()[i as usize / 64];
        w.set(w.get() | 1 << (i % 64));
    }
}

/// Every atom of a plan's conditions, indexed by attribute, and the slot
/// table of the attributes the conditions use. Built once per plan.
pub struct Index {
    /// By [`AttrId`]: the atoms on the attribute (`None`: no condition
    /// reads it).
    attrs: Vec<Option<AttrIndex>>,
    /// By group index: the `memberOf` atoms that name the group.
    members: Vec<Vec<u32>>,
    /// By [`AttrId`]: its place in `used`, or `u8::MAX`.
    slots: [u8; USER_ATTRIBUTE_COUNT],
    used: Vec<AttrId>,
    atoms: usize,
}

impl Index {
    /// The place of attribute `a` among those the conditions use.
    pub(super) fn slot(&self, a: AttrId) -> Option<usize> {
        let s = *self.slots.get(a)?;
        (s != u8::MAX).then_some(s as usize)
    }

    /// The attributes the conditions use (not `memberOf`), in first use.
    pub fn used(&self) -> &[AttrId] {
        &self.used
    }

    pub(super) fn bits(&self) -> Bits {
        let words = self.atoms.div_ceil(64);
        if words <= INLINE_WORDS {
            Bits::Inline(Default::default())
        } else {
            Bits::Heap((0..words).map(|_| Cell::new(0)).collect())
        }
    }
}

/// The atoms on one attribute.
struct AttrIndex {
    /// Hold when the value is present (`exists=true`, empty operands).
    present: Vec<u32>,
    /// Hold when it is missing or empty (`exists=false`).
    absent: Vec<u32>,
    /// A value, to the "equals one of" atoms that list it.
    equals: Map<String, Vec<u32>>,
    prefixes: Affixes,
    suffixes: Affixes,
    contains: Contains,
    matches: Matches,
}

/// `starts-with` (or `ends-with`) operands by their bytes, and the lengths
/// they come in (few: one lookup each).
#[derive(Default)]
struct Affixes {
    lens: Vec<usize>,
    atoms: Map<Box<[u8]>, u32>,
}

impl Affixes {
    fn add(&mut self, operand: &str, atom: u32) {
        if !self.lens.contains(&operand.len()) {
            self.lens.push(operand.len());
        }
        self.atoms.insert(operand.as_bytes().into(), atom);
    }

    fn test(&self, v: &[u8], prefix: bool, set: &impl Fn(u32)) {
        for &n in self.lens.iter().filter(|&&n| n <= v.len()) {
            let part = if prefix { &v[..n] } else { &v[v.len() - n..] };
            if let Some(&i) = self.atoms.get(part) {
                set(i);
            }
        }
    }
}

/// `contains` needles (none empty) with their atoms: one automaton, or
/// (when it cannot be built) each on its own.
enum Contains {
    None,
    Automaton(AhoCorasick, Vec<u32>),
    Each(Vec<(String, u32)>),
}

/// `matches` patterns with their atoms: one set, or (when the set cannot
/// be built, e.g. too large together) each on its own.
enum Matches {
    None,
    Set(RegexSet, Vec<u32>),
    Each(Vec<(Pattern, u32)>),
}

impl AttrIndex {
    /// Set the bit of every atom that holds for the normalised value `v`
    /// (`None`: missing or empty).
    fn test(&self, v: Option<&str>, set: impl Fn(u32)) {
        let Some(v) = v else {
            self.absent.iter().for_each(|&i| set(i));
            return;
        };
        self.present.iter().for_each(|&i| set(i));
        if let Some(atoms) = self.equals.get(v) {
            atoms.iter().for_each(|&i| set(i));
        }
        self.prefixes.test(v.as_bytes(), true, &set);
        self.suffixes.test(v.as_bytes(), false, &set);
        match &self.contains {
            Contains::None => {}
            // Standard semantics: the overlapping search reports every
            // needle that occurs.
            Contains::Automaton(ac, atoms) => {
                for m in ac.find_overlapping_iter(v) {
                    set(atoms[m.pattern().as_usize()]);
                }
            }
            Contains::Each(ns) => {
                for (n, i) in ns {
                    if v.contains(n.as_str()) {
                        set(*i);
                    }
                }
            }
        }
        match &self.matches {
            Matches::None => {}
            Matches::Set(patterns, atoms) => {
                for p in patterns.matches(v).iter() {
                    set(atoms[p]);
                }
            }
            Matches::Each(ps) => {
                for (p, i) in ps {
                    if p.is_match(v) {
                        set(*i);
                    }
                }
            }
        }
    }
}

/// What makes two atoms the same test.
#[derive(PartialEq, Eq, Hash)]
enum Key {
    Equals(AttrId, Vec<String>),
    StartsWith(AttrId, String),
    EndsWith(AttrId, String),
    Contains(AttrId, String),
    /// By the trimmed source: the regex is a function of it.
    Matches(AttrId, String),
    Exists(AttrId, bool),
    /// `memberOf` one of these groups (indexes, sorted).
    MemberOf(Vec<u32>),
}

/// Collects the atoms of the conditions given to [`IndexBuilder::add`].
#[derive(Default)]
pub struct IndexBuilder {
    keys: HashMap<Key, u32>,
    attrs: Vec<Option<AttrBuilder>>,
    members: Vec<Vec<u32>>,
    used: Vec<AttrId>,
    /// Test each `contains` and `matches` operand on its own (the
    /// fallback when an automaton cannot be built; tests force it).
    each: bool,
}

#[derive(Default)]
struct AttrBuilder {
    present: Vec<u32>,
    absent: Vec<u32>,
    equals: Map<String, Vec<u32>>,
    prefixes: Affixes,
    suffixes: Affixes,
    contains: Vec<(String, u32)>,
    matches: Vec<(Pattern, u32)>,
}

impl IndexBuilder {
    /// Index the atoms of `conds` (all of which must hold); they read as
    /// the returned [`Conjunction`].
    pub fn add(&mut self, conds: &[Compiled]) -> Conjunction {
        let (mut head, mut rest) = (Vec::new(), Vec::new());
        for c in self.add_all(conds) {
            match c {
                Fast::Attr(a, atoms) => head.extend(atoms.iter().map(|&i| (a as u32, i))),
                c => rest.push(c),
            }
        }
        Conjunction {
            head: head.into(),
            rest: rest.into(),
        }
    }

    fn add_all(&mut self, conds: &[Compiled]) -> Vec<Fast> {
        conds.iter().map(|c| self.add_one(c)).collect()
    }

    fn add_one(&mut self, c: &Compiled) -> Fast {
        match c {
            Compiled::All(cs) => Fast::All(self.add_all(cs)),
            Compiled::Any(cs) => Fast::Any(self.add_all(cs)),
            Compiled::Not(cs) => Fast::Not(self.add_all(cs)),
            Compiled::Attr(a) if a.attr == MEMBER_OF && !a.ops.is_empty() => {
                Fast::Member(Box::new(a.clone()))
            }
            Compiled::Attr(a) if a.attr == MEMBER_OF => {
                // Without values it always holds (no atoms).
                let mut groups: Vec<u32> = a.groups.iter().copied().collect();
                groups.sort_unstable();
                let atoms = if a.values.is_empty() {
                    Vec::new()
                } else {
                    vec![self.atom(Key::MemberOf(groups)).0]
                };
                Fast::Attr(MEMBER_OF, atoms.into())
            }
            Compiled::Attr(a) => {
                self.attr(a.attr);
                let mut atoms = Vec::new();
                if !a.values.is_empty() {
                    let mut values = a.values.clone();
                    values.sort();
                    values.dedup();
                    atoms.push(self.atom(Key::Equals(a.attr, values)).0);
                }
                for op in &a.ops {
                    let key = match op {
                        CompiledOp::StartsWith(p) => Key::StartsWith(a.attr, p.clone()),
                        CompiledOp::EndsWith(p) => Key::EndsWith(a.attr, p.clone()),
                        CompiledOp::Contains(p) => Key::Contains(a.attr, p.clone()),
                        CompiledOp::Matches(p) => Key::Matches(a.attr, p.source().trim().into()),
                        CompiledOp::Exists(b) => Key::Exists(a.attr, *b),
                    };
                    let (i, new) = self.atom(key);
                    if let (CompiledOp::Matches(p), true) = (op, new) {
                        self.attr(a.attr).matches.push((p.clone(), i));
                    }
                    atoms.push(i);
                }
                Fast::Attr(a.attr, atoms.into())
            }
        }
    }

    /// The atoms of attribute `a` so far (and `a` counted as used).
    fn attr(&mut self, a: AttrId) -> &mut AttrBuilder {
        if self.attrs.len() <= a {
            self.attrs.resize_with(a + 1, || None);
        }
        if self.attrs[a].is_none() {
            self.used.push(a);
        }
        self.attrs[a].get_or_insert_with(AttrBuilder::default)
    }

    /// The atom of `key`, and whether it is new: the one already made, or
    /// a new one, registered where its attribute is tested.
    fn atom(&mut self, key: Key) -> (u32, bool) {
        if let Some(&i) = self.keys.get(&key) {
            return (i, false);
        }
        let i = self.keys.len() as u32;
        self.register(&key, i);
        self.keys.insert(key, i);
        (i, true)
    }

    /// Put a new atom where its test finds it (a pattern is put by the
    /// caller, which has it compiled).
    fn register(&mut self, key: &Key, i: u32) {
        match key {
            Key::MemberOf(groups) => {
                for &g in groups {
                    let g = g as usize;
                    if self.members.len() <= g {
                        self.members.resize_with(g + 1, Vec::new);
                    }
                    self.members[g].push(i);
                }
            }
            Key::Equals(a, values) => {
                let ab = self.attr(*a);
                for v in values {
                    ab.equals.entry(v.clone()).or_default().push(i);
                }
            }
            Key::StartsWith(a, p) | Key::EndsWith(a, p) | Key::Contains(a, p) if p.is_empty() => {
                self.attr(*a).present.push(i)
            }
            Key::StartsWith(a, p) => self.attr(*a).prefixes.add(p, i),
            Key::EndsWith(a, p) => self.attr(*a).suffixes.add(p, i),
            Key::Contains(a, p) => self.attr(*a).contains.push((p.clone(), i)),
            Key::Matches(..) => {}
            Key::Exists(a, true) => self.attr(*a).present.push(i),
            Key::Exists(a, false) => self.attr(*a).absent.push(i),
        }
    }

    /// The index: automata built for `contains` and `matches`.
    pub fn build(self) -> Index {
        let mut slots = [u8::MAX; USER_ATTRIBUTE_COUNT];
        for (n, &a) in self.used.iter().enumerate() {
            slots[a] = n as u8;
        }
        let attrs = self
            .attrs
            .into_iter()
            .map(|ab| ab.map(|ab| ab.build(self.each)))
            .collect();
        Index {
            attrs,
            members: self.members,
            slots,
            used: self.used,
            atoms: self.keys.len(),
        }
    }
}

impl AttrBuilder {
    fn build(self, each: bool) -> AttrIndex {
        let contains = if self.contains.is_empty() {
            Contains::None
        } else {
            match AhoCorasick::new(self.contains.iter().map(|(n, _)| n)) {
                Ok(ac) if !each => {
                    Contains::Automaton(ac, self.contains.iter().map(|&(_, i)| i).collect())
                }
                _ => Contains::Each(self.contains),
            }
        };
        let matches = if self.matches.is_empty() {
            Matches::None
        } else {
            match Pattern::set(self.matches.iter().map(|(p, _)| p)) {
                Ok(set) if !each => {
                    Matches::Set(set, self.matches.iter().map(|&(_, i)| i).collect())
                }
                _ => Matches::Each(self.matches),
            }
        };
        AttrIndex {
            present: self.present,
            absent: self.absent,
            equals: self.equals,
            prefixes: self.prefixes,
            suffixes: self.suffixes,
            contains,
            matches,
        }
    }
}

#[cfg(test)]
mod tests;

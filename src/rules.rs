//! Conditions and first-match rule evaluation, plus the trace `explain`
//! shows.
//!
//! Conditions are compiled once per plan: values lower-cased and trimmed,
//! `memberOf` values resolved to group indexes (regular expressions come
//! compiled in the manifest model, as [`Pattern`]s). Two evaluators read
//! them: the simple one here ([`holds`]: each condition on its own, for the
//! `explain` trace) and the fast one of [`index`] (every condition on an
//! attribute at once, for the plan), which must agree with it. The simple
//! one normalises a user's attributes on first read (by a slot table, for
//! the attributes the rules use) and borrows them when they are normalised
//! already. Pure: no I/O.

mod index;

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::collections::HashSet;

use crate::catalog::{AttrId, MEMBER_OF};
use crate::live::{LiveState, User};
use crate::manifest::{Condition, Op, Pattern};

pub use index::{Conjunction, Index, IndexBuilder};

/// Trim and lower-case, as every comparison does.
pub fn normalize(s: &str) -> String {
    s.trim().to_lowercase()
}

pub use crate::live::lowercase;

/// `s.trim()`, without stepping through chars when `s` starts and ends
/// with a visible ASCII character (nothing to trim).
pub(crate) fn trimmed(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
    let bytes = s.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        s
    } else {
        s.trim()
    }
}

/// Whether trimmed text is normalised already (nothing to lower-case).
fn is_lower_ascii(t: &str) -> bool {
    !t.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii())
}

/// [`normalize`] without allocating when the trimmed text is lower-case
/// ASCII already (most UPNs, object ids, codes): then it is borrowed.
pub fn normalized(s: &str) -> Cow<'_, str> {
    let t = trimmed(s);
    if is_lower_ascii(t) {
        Cow::Borrowed(t)
    } else if t.is_ascii() {
        Cow::Owned(t.to_ascii_lowercase())
    } else {
        Cow::Owned(t.to_lowercase())
    }
}

/// [`normalized`], written into `buf` (reused: no allocation for ASCII
/// text once `buf` is large enough) when it cannot be borrowed.
pub fn normalized_into<'s>(s: &'s str, buf: &'s mut String) -> &'s str {
    let t = trimmed(s);
    if is_lower_ascii(t) {
        return t;
    }
    buf.clear();
    if t.is_ascii() {
        buf.push_str(t);
        buf.make_ascii_lowercase();
    } else {
        // Not char by char: `to_lowercase` knows the final sigma.
        buf.push_str(&t.to_lowercase());
    }
    buf
}

#[derive(Debug, Clone)]
pub enum Compiled {
    All(Vec<Compiled>),
    Any(Vec<Compiled>),
    Not(Vec<Compiled>),
    Attr(CompiledAttr),
}

#[derive(Debug, Clone)]
pub struct CompiledAttr {
    pub attr: AttrId,
    /// Normalised values ("equals one of").
    pub values: Vec<String>,
    /// For `memberOf`: the groups the values name.
    pub groups: HashSet<u32>,
    pub ops: Vec<CompiledOp>,
}

#[derive(Debug, Clone)]
pub enum CompiledOp {
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Matches(Pattern),
    Exists(bool),
}

/// Compile conditions against the live groups. (Patterns were compiled
/// when the manifest was read.)
pub fn compile(conds: &[Condition], live: &LiveState) -> Vec<Compiled> {
    conds.iter().map(|c| compile_one(c, live)).collect()
}

fn compile_one(c: &Condition, live: &LiveState) -> Compiled {
    match c {
        Condition::All(cs, _) => Compiled::All(compile(cs, live)),
        Condition::Any(cs, _) => Compiled::Any(compile(cs, live)),
        Condition::Not(cs, _) => Compiled::Not(compile(cs, live)),
        Condition::Attr(a) => {
            let values: Vec<String> = a.values.iter().map(|v| normalize(v)).collect();
            let groups = if a.attribute == MEMBER_OF {
                live.groups
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| {
                        values.contains(&normalize(&g.display_name))
                            || values.contains(&normalize(&g.id))
                    })
                    .map(|(i, _)| i as u32)
                    .collect()
            } else {
                HashSet::new()
            };
            let ops = a
                .ops
                .iter()
                .map(|o| match &o.value {
                    Op::StartsWith(s) => CompiledOp::StartsWith(normalize(s)),
                    Op::EndsWith(s) => CompiledOp::EndsWith(normalize(s)),
                    Op::Contains(s) => CompiledOp::Contains(normalize(s)),
                    Op::Matches(p) => CompiledOp::Matches(p.clone()),
                    Op::Exists(b) => CompiledOp::Exists(*b),
                })
                .collect();
            Compiled::Attr(CompiledAttr {
                attr: a.attribute,
                values,
                groups,
                ops,
            })
        }
    }
}

/// `memberOf` values that name no group of the tenant, neither by display
/// name nor by object id (such a condition never holds: likely a typo or a
/// deleted group), in written order, without repeats.
pub fn unknown_groups(conds: &[Condition], live: &LiveState, out: &mut Vec<String>) {
    for c in conds {
        match c {
            Condition::All(cs, _) | Condition::Any(cs, _) | Condition::Not(cs, _) => {
                unknown_groups(cs, live, out)
            }
            Condition::Attr(a) if a.attribute == MEMBER_OF => {
                for v in &a.values {
                    let n = normalize(v);
                    let known = live
                        .groups
                        .iter()
                        .any(|g| normalize(&g.display_name) == n || normalize(&g.id) == n);
                    if !known && !out.contains(v) {
                        out.push(v.clone());
                    }
                }
            }
            Condition::Attr(_) => {}
        }
    }
}

/// Every attribute some condition reads (to normalise only those).
pub fn used_attributes(conds: &[Compiled], out: &mut Vec<AttrId>) {
    for c in conds {
        match c {
            Compiled::All(cs) | Compiled::Any(cs) | Compiled::Not(cs) => used_attributes(cs, out),
            Compiled::Attr(a) => {
                if a.attr != MEMBER_OF && !out.contains(&a.attr) {
                    out.push(a.attr);
                }
            }
        }
    }
}

/// An attribute's normalised value once read (`None`: missing or empty).
type Normalised<'a> = OnceCell<Option<Cow<'a, str>>>;

/// One user as the rules see it.
///
/// For the simple evaluator: the normalised values of the attributes the
/// rules use, each normalised on first read (a user the first rule matches
/// never pays for the attributes of the others) and borrowed from the user
/// when already normalised. For the fast one: the verdicts of the atoms of
/// each attribute read so far ([`index`]).
pub struct Subject<'a> {
    pub user: &'a User,
    pub live: &'a LiveState,
    index: &'a Index,
    /// By slot of [`Index`]; made on the simple evaluator's first read.
    attrs: OnceCell<Box<[Normalised<'a>]>>,
    /// Bit `a` set: the atoms of attribute `a` are in `bits`.
    done: Cell<u64>,
    bits: index::Bits,
}

impl<'a> Subject<'a> {
    pub fn new(user: &'a User, live: &'a LiveState, index: &'a Index) -> Self {
        Subject {
            user,
            live,
            index,
            attrs: OnceCell::new(),
            done: Cell::new(0),
            bits: index.bits(),
        }
    }

    /// The normalised value of attribute `a`: `None` when missing, empty,
    /// or not one the rules use.
    pub fn attr(&self, a: AttrId) -> Option<&str> {
        let slot = self.index.slot(a)?;
        let cells = self.attrs.get_or_init(|| {
            (0..self.index.used().len())
                .map(|_| OnceCell::new())
                .collect()
        });
        cells[slot]
            .get_or_init(|| self.user.attr(a).map(normalized).filter(|v| !v.is_empty()))
            .as_deref()
    }

    /// Group names and ids, normalised (for operators on `memberOf`).
    fn group_values(&self) -> Vec<String> {
        self.user
            .groups
            .iter()
            .flat_map(|&g| {
                let g = &self.live.groups[g as usize];
                [normalize(&g.display_name), normalize(&g.id)]
            })
            .collect()
    }
}

pub fn holds_all(conds: &[Compiled], s: &Subject<'_>) -> bool {
    conds.iter().all(|c| holds(c, s))
}

pub fn holds(c: &Compiled, s: &Subject<'_>) -> bool {
    match c {
        Compiled::All(cs) => holds_all(cs, s),
        Compiled::Any(cs) => cs.iter().any(|c| holds(c, s)),
        Compiled::Not(cs) => !holds_all(cs, s),
        Compiled::Attr(a) => attr_holds(a, s),
    }
}

fn attr_holds(a: &CompiledAttr, s: &Subject<'_>) -> bool {
    if a.attr == MEMBER_OF {
        let groups = &s.user.groups;
        if !a.values.is_empty() && !groups.iter().any(|g| a.groups.contains(g)) {
            return false;
        }
        if a.ops.is_empty() {
            return true;
        }
        let values = s.group_values();
        return a.ops.iter().all(|op| match op {
            CompiledOp::Exists(want) => *want != groups.is_empty(),
            op => values.iter().any(|v| op_holds(op, v)),
        });
    }
    let value = s.attr(a.attr);
    if !a.values.is_empty() {
        match value {
            Some(v) if a.values.iter().any(|x| x == v) => {}
            _ => return false,
        }
    }
    a.ops.iter().all(|op| match (op, value) {
        (CompiledOp::Exists(want), v) => *want == v.is_some(),
        (_, None) => false,
        (op, Some(v)) => op_holds(op, v),
    })
}

fn op_holds(op: &CompiledOp, v: &str) -> bool {
    match op {
        CompiledOp::StartsWith(p) => v.starts_with(p.as_str()),
        CompiledOp::EndsWith(p) => v.ends_with(p.as_str()),
        CompiledOp::Contains(p) => v.contains(p.as_str()),
        CompiledOp::Matches(r) => r.is_match(v),
        CompiledOp::Exists(want) => *want,
    }
}

/// A line of the `explain` trace: what was tested, what the user has, and
/// whether it held.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Trace {
    pub test: String,
    pub value: Option<String>,
    pub holds: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Trace>,
}

/// Evaluate with a trace of every condition (for `explain`; not the hot path).
pub fn explain(conds: &[Condition], compiled: &[Compiled], s: &Subject<'_>) -> Vec<Trace> {
    conds
        .iter()
        .zip(compiled)
        .map(|(c, k)| explain_one(c, k, s))
        .collect()
}

fn explain_one(c: &Condition, k: &Compiled, s: &Subject<'_>) -> Trace {
    let holds = holds(k, s);
    match (c, k) {
        (Condition::All(cs, _), Compiled::All(ks)) => group("all", explain(cs, ks, s), holds),
        (Condition::Any(cs, _), Compiled::Any(ks)) => group("any", explain(cs, ks, s), holds),
        (Condition::Not(cs, _), Compiled::Not(ks)) => group("not", explain(cs, ks, s), holds),
        (Condition::Attr(a), _) => {
            let name = crate::catalog::ATTRIBUTES[a.attribute];
            let mut parts = Vec::new();
            if !a.values.is_empty() {
                parts.push(format!(
                    "is one of {}",
                    a.values
                        .iter()
                        .map(|v| format!("{v:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            for op in &a.ops {
                parts.push(match &op.value {
                    Op::Exists(b) => format!("exists={b}"),
                    Op::StartsWith(v) | Op::EndsWith(v) | Op::Contains(v) => {
                        format!("{}={v:?}", op.value.keyword())
                    }
                    Op::Matches(p) => format!("{}={:?}", op.value.keyword(), p.source()),
                });
            }
            let value = if a.attribute == MEMBER_OF {
                let names: Vec<String> = s
                    .user
                    .groups
                    .iter()
                    .map(|&g| s.live.groups[g as usize].display_name.clone())
                    .collect();
                (!names.is_empty()).then(|| names.join(", "))
            } else {
                s.user.attr(a.attribute).map(str::to_string)
            };
            Trace {
                test: format!("{name} {}", parts.join(" and ")),
                value,
                holds,
                children: Vec::new(),
            }
        }
        _ => Trace {
            test: "?".into(),
            value: None,
            holds,
            children: Vec::new(),
        },
    }
}

fn group(kind: &str, children: Vec<Trace>, holds: bool) -> Trace {
    Trace {
        test: kind.to_string(),
        value: None,
        holds,
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_and_lowercase_are_normalize_and_to_lowercase() {
        for s in [
            "",
            " ",
            "abc",
            "Warehouse",
            " London ",
            "\u{0B}x\u{0B}",
            "\tTab\n",
            "\u{a0}nbsp\u{a0}",
            "\u{3000}Ideographic",
            "ÅSA@x.com",
            "ΣΑΣ",
            "İstanbul",
            "x\u{1F}",
            "CHI777548",
        ] {
            assert_eq!(normalized(s), normalize(s), "{s:?}");
            assert_eq!(lowercase(s), s.to_lowercase(), "{s:?}");
        }
        assert!(matches!(normalized("a@x.com"), Cow::Borrowed(_)));
        assert!(matches!(normalized(" a@x.com"), Cow::Borrowed("a@x.com")));
        assert!(matches!(lowercase("id-1"), Cow::Borrowed(_)));
    }
}

//! The fast evaluator against the simple one: the same verdict for every
//! random condition and user (case folding, non-ASCII, white space, empty
//! and missing values, `memberOf`), with the automata and without.

use std::collections::HashSet;

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::live::{Group, LiveState, User};
use crate::rules::{holds_all, normalize};

/// Pieces of values and operands: cases that fold differently, white space
/// that trims, characters whose lower case changes length.
const PIECES: &[&str] = &[
    "a", "B", "lon", "LON", "1", "42", "-", ":", " ", "\t", "\u{a0}", "ß", "ẞ", "Σ", "ς", "σ", "İ",
    "i", "\u{212A}", "k", "é", "É", "@x.com", "",
];
const PATTERNS: &[&str] = &[
    r"lon\d+",
    "a.*",
    ".*b",
    "ß",
    "σ+",
    "(?-i)B",
    "[a-z]+",
    "",
    "é|e",
    "k",
    " a ",
    r"\w*:lon:\w*",
    r".*\s.*",
];
/// userPrincipalName (which falls back to the UPN), jobTitle, employeeId,
/// postalCode.
const ATTRS: &[AttrId] = &[0, 5, 9, 14];

fn text() -> impl Strategy<Value = String> {
    vec(prop::sample::select(PIECES), 0..4).prop_map(|v| v.concat())
}

fn op() -> impl Strategy<Value = CompiledOp> {
    prop_oneof![
        text().prop_map(|t| CompiledOp::StartsWith(normalize(&t))),
        text().prop_map(|t| CompiledOp::EndsWith(normalize(&t))),
        text().prop_map(|t| CompiledOp::Contains(normalize(&t))),
        prop::sample::select(PATTERNS).prop_map(|p| CompiledOp::Matches(Pattern::new(p).unwrap())),
        any::<bool>().prop_map(CompiledOp::Exists),
    ]
}

fn attr_condition() -> impl Strategy<Value = Compiled> {
    let attr = prop::sample::select(vec![0, 5, 9, 14, MEMBER_OF]);
    (attr, vec(text(), 0..3), vec(op(), 0..3), vec(0u32..3, 0..3)).prop_map(
        |(attr, values, ops, groups)| {
            Compiled::Attr(CompiledAttr {
                attr,
                values: values.iter().map(|v| normalize(v)).collect(),
                groups: if attr == MEMBER_OF {
                    groups.into_iter().collect()
                } else {
                    HashSet::new()
                },
                ops,
            })
        },
    )
}

fn condition() -> impl Strategy<Value = Compiled> {
    attr_condition().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Compiled::All),
            vec(inner.clone(), 0..4).prop_map(Compiled::Any),
            vec(inner, 0..4).prop_map(Compiled::Not),
        ]
    })
}

fn user() -> impl Strategy<Value = User> {
    let values = vec(prop::option::of(text()), ATTRS.len());
    (text(), values, vec(0u32..3, 0..3)).prop_map(|(upn, values, mut groups)| {
        let mut u = User::new("id-1", upn);
        for (&a, v) in ATTRS.iter().zip(values) {
            u.attrs.set(a, v.as_deref());
        }
        groups.sort();
        groups.dedup();
        u.groups = groups;
        u
    })
}

fn groups() -> Vec<Group> {
    [("g1", "Sales"), ("G2", "ΣΑΣ"), ("g3", " Ops ")]
        .iter()
        .map(|(id, name)| Group {
            id: id.to_string(),
            display_name: name.to_string(),
            members: Vec::new(),
        })
        .collect()
}

/// Every rule's verdict, simple and fast, for every user: the fast one on
/// a subject that evaluates the rules in order (as `first_match` does).
fn agree(rules: &[Vec<Compiled>], live: &LiveState, each: bool) -> Result<(), TestCaseError> {
    let mut b = IndexBuilder {
        each,
        ..Default::default()
    };
    let fast: Vec<Conjunction> = rules.iter().map(|r| b.add(r)).collect();
    let index = b.build();
    for u in &live.users {
        let simple = Subject::new(u, live, &index);
        let quick = Subject::new(u, live, &index);
        for (r, f) in rules.iter().zip(&fast) {
            prop_assert_eq!(
                f.holds(&quick),
                holds_all(r, &simple),
                "rule {:?}, user {:?} {:?}",
                r,
                u.upn,
                u.attrs
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_fast_evaluator_agrees_with_the_simple_one(
        rules in vec(vec(condition(), 0..3), 1..6),
        users in vec(user(), 1..5),
        each: bool,
    ) {
        let live = LiveState { users, groups: groups(), ..LiveState::default() };
        agree(&rules, &live, each)?;
    }
}

fn starts_with(attr: AttrId, p: &str) -> Compiled {
    Compiled::Attr(CompiledAttr {
        attr,
        values: Vec::new(),
        groups: HashSet::new(),
        ops: vec![CompiledOp::StartsWith(p.into())],
    })
}

#[test]
fn more_atoms_than_fit_inline() {
    // 600 atoms: the verdicts live on the heap.
    let rules: Vec<Vec<Compiled>> = (0..600)
        .map(|n| vec![starts_with(9, &format!("e{n}-"))])
        .collect();
    let mut u = User::new("id-1", "a@x.com");
    u.attrs.set(9, Some(" E599-X "));
    let live = LiveState {
        users: vec![u],
        ..LiveState::default()
    };
    let mut b = IndexBuilder::default();
    let fast: Vec<Conjunction> = rules.iter().map(|r| b.add(r)).collect();
    let index = b.build();
    assert!(matches!(index.bits(), Bits::Heap(_)));
    let s = Subject::new(&live.users[0], &live, &index);
    let held: Vec<usize> = (0..600).filter(|&r| fast[r].holds(&s)).collect();
    assert_eq!(held, [599]);
    agree(&rules, &live, false).unwrap();
}

#[test]
fn the_same_test_twice_is_one_atom_and_attributes_get_slots() {
    let rules = [
        vec![starts_with(9, "lon"), starts_with(14, "ec")],
        vec![starts_with(9, "lon")],
    ];
    let mut b = IndexBuilder::default();
    let fast: Vec<Conjunction> = rules.iter().map(|r| b.add(r)).collect();
    let index = b.build();
    assert_eq!(index.atoms, 2);
    assert_eq!(index.used(), [9, 14]);
    assert_eq!(
        (index.slot(9), index.slot(14), index.slot(5)),
        (Some(0), Some(1), None)
    );
    assert_eq!(fast[0].head[0], fast[1].head[0]);
    assert_eq!(fast[0].head[..], [(9, 0), (14, 1)]);
}

#[test]
fn every_pair_of_pieces_against_every_pair() {
    // Exhaustive where random cases are thin: a final sigma ("aΣ" folds
    // to "aς"), the Kelvin sign, dotted İ, white space at either end.
    let pairs: Vec<String> = PIECES
        .iter()
        .flat_map(|a| PIECES.iter().map(move |b| format!("{a}{b}")))
        .collect();
    let mut rules: Vec<Vec<Compiled>> = Vec::new();
    for p in &pairs {
        let n = normalize(p);
        for op in [
            CompiledOp::StartsWith(n.clone()),
            CompiledOp::EndsWith(n.clone()),
            CompiledOp::Contains(n.clone()),
        ] {
            rules.push(vec![Compiled::Attr(CompiledAttr {
                attr: 5,
                values: Vec::new(),
                groups: HashSet::new(),
                ops: vec![op],
            })]);
        }
        rules.push(vec![Compiled::Attr(CompiledAttr {
            attr: 5,
            values: vec![n],
            groups: HashSet::new(),
            ops: Vec::new(),
        })]);
    }
    for p in PATTERNS {
        rules.push(vec![Compiled::Attr(CompiledAttr {
            attr: 5,
            values: Vec::new(),
            groups: HashSet::new(),
            ops: vec![CompiledOp::Matches(Pattern::new(p).unwrap())],
        })]);
    }
    let users = pairs
        .iter()
        .map(|v| {
            let mut u = User::new("id-1", "a@x.com");
            u.attrs.set(5, Some(v));
            u
        })
        .collect();
    let live = LiveState {
        users,
        ..LiveState::default()
    };
    agree(&rules, &live, false).unwrap();
}

//! Checks across items and files, after lowering: duplicate names, dangling
//! references, block order and overlaps, reserved numbers, rules that can
//! never match and personas nothing uses. Pushes every finding; no I/O.

use std::collections::{BTreeMap, HashMap};

use super::diag::{Diagnostic, Diagnostics};
use super::model::*;
use super::source::{Span, Spanned};
use crate::catalog;

pub fn validate(m: &Manifest, diags: &mut Diagnostics) {
    duplicates(diags, "range", m.ranges.iter().map(|r| &r.name), false);
    duplicates(diags, "persona", m.personas.iter().map(|p| &p.name), false);
    duplicates(diags, "rule", m.rules.iter().map(|r| &r.name), false);
    duplicates(diags, "user override", m.users.iter().map(|u| &u.upn), true);
    references(m, diags);
    blocks(m, diags);
    pins(m, diags);
    unreachable_rules(m, diags);
    unused_personas(m, diags);
}

fn duplicates<'a>(
    diags: &mut Diagnostics,
    what: &str,
    names: impl Iterator<Item = &'a Spanned<String>>,
    fold_case: bool,
) {
    let mut seen: HashMap<String, Span> = HashMap::new();
    for n in names {
        let key = if fold_case {
            n.value.trim().to_lowercase()
        } else {
            n.value.clone()
        };
        if let Some(first) = seen.get(&key) {
            diags.push(
                Diagnostic::error(
                    "duplicate-name",
                    n.span,
                    format!("{what} `{}` is defined twice", n.value),
                )
                .label("defined again here")
                .related(*first, "first defined here")
                .help(format!("{what} names are unique: rename or remove one")),
            );
        } else {
            seen.insert(key, n.span);
        }
    }
}

fn persona_ref(m: &Manifest, diags: &mut Diagnostics, name: &Spanned<String>, from: &str) {
    if m.persona(&name.value).is_none() {
        let help = catalog::did_you_mean(
            &name.value,
            m.personas.iter().map(|p| p.name.value.as_str()),
        )
        .unwrap_or_else(|| {
            if m.personas.is_empty() {
                "no persona is defined: add `persona \"NAME\" { … }`".into()
            } else {
                format!(
                    "defined personas: {}",
                    m.personas
                        .iter()
                        .map(|p| format!("`{}`", p.name.value))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        });
        diags.push(
            Diagnostic::error(
                "unknown-persona",
                name.span,
                format!("{from} names unknown persona `{}`", name.value),
            )
            .label("no such persona")
            .help(help),
        );
    }
}

fn references(m: &Manifest, diags: &mut Diagnostics) {
    for r in &m.rules {
        persona_ref(m, diags, &r.persona, &format!("rule `{}`", r.name.value));
    }
    for u in &m.users {
        if let Some(p) = &u.persona {
            persona_ref(m, diags, p, &format!("user override `{}`", u.upn.value));
        }
        if u.ignore && (u.persona.is_some() || u.number.is_some()) {
            diags.push(
                Diagnostic::warning(
                    "ignored-override",
                    u.span,
                    format!(
                        "user `{}` is ignored, so its persona and number are never used",
                        u.upn.value
                    ),
                )
                .label("ignore wins")
                .help(
                    "remove `ignore` to manage this user, or the persona/number to leave it alone",
                ),
            );
        }
    }
    for p in &m.personas {
        if let NumberPolicy::Ranges(names) = &p.number {
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for n in names {
                if let Some(first) = seen.insert(n.value.as_str(), n.span) {
                    diags.push(
                        Diagnostic::warning(
                            "duplicate-name",
                            n.span,
                            format!("range `{}` is listed twice", n.value),
                        )
                        .label("listed again")
                        .related(first, "first listed here"),
                    );
                }
                if m.range(&n.value).is_none() {
                    let help = catalog::did_you_mean(
                        &n.value,
                        m.ranges.iter().map(|r| r.name.value.as_str()),
                    )
                    .unwrap_or_else(|| "define it with `range \"NAME\" type=… { block … }`".into());
                    diags.push(
                        Diagnostic::error(
                            "unknown-range",
                            n.span,
                            format!(
                                "persona `{}` names unknown range `{}`",
                                p.name.value, n.value
                            ),
                        )
                        .label("no such range")
                        .help(help),
                    );
                }
            }
        }
        let mut types: HashMap<&str, Span> = HashMap::new();
        for s in &p.policies {
            if let Some(first) = types.insert(s.policy_type.value.as_str(), s.span) {
                diags.push(
                    Diagnostic::error(
                        "duplicate-policy-type",
                        s.span,
                        format!(
                            "persona `{}` sets `{}` twice",
                            p.name.value, s.policy_type.value
                        ),
                    )
                    .label("set again here")
                    .related(first, "first set here")
                    .help("a persona gives one policy per type: keep one"),
                );
            }
        }
    }
}

fn blocks(m: &Manifest, diags: &mut Diagnostics) {
    // (block, range name) of every well-formed block, for the overlap sweep.
    let mut all: Vec<(&Block, &str)> = Vec::new();
    for r in &m.ranges {
        for b in &r.blocks {
            if b.from.len() != b.to.len() {
                diags.push(
                    Diagnostic::error(
                        "block-length-mismatch",
                        b.span,
                        format!(
                            "block ends `{}` and `{}` have different lengths",
                            b.from, b.to
                        ),
                    )
                    .label(format!("{} and {} digits", b.from.len(), b.to.len()))
                    .help("both ends of a block have the same number of digits"),
                );
            } else if b.from > b.to {
                diags.push(
                    Diagnostic::error(
                        "block-reversed",
                        b.span,
                        format!("block starts at `{}`, after its end `{}`", b.from, b.to),
                    )
                    .label("from > to")
                    .help(format!("swap the ends: `\"{}\" \"{}\"`", b.to, b.from)),
                );
            } else {
                all.push((b, &r.name.value));
            }
        }
        if r.blocks.is_empty() {
            diags.push(
                Diagnostic::warning(
                    "empty-range",
                    r.name.span,
                    format!("range `{}` has no blocks", r.name.value),
                )
                .label("no numbers")
                .help("add `block \"+FROM\" \"+TO\"`"),
            );
        }
        for n in &r.reserve {
            if !r.contains(n.value) {
                diags.push(
                    Diagnostic::warning(
                        "reserve-outside-range",
                        n.span,
                        format!(
                            "reserved number `{}` is outside every block of range `{}`",
                            n.value, r.name.value
                        ),
                    )
                    .label("not in this range")
                    .help("reserve numbers of the range's own blocks, or remove this one"),
                );
            }
        }
    }
    all.sort_by_key(|(b, _)| (b.from.len(), b.from.digits(), b.to.digits()));
    // Sweep: the block reaching furthest so far overlaps every later block
    // that starts before its end.
    let mut reach: Option<(&Block, &str)> = None;
    for (b, name) in all {
        if let Some((prev, prev_name)) = reach {
            if prev.overlaps(b) {
                let message = if prev_name == name {
                    format!("blocks of range `{name}` overlap")
                } else {
                    format!("block of range `{name}` overlaps range `{prev_name}`")
                };
                diags.push(
                    Diagnostic::error("overlapping-blocks", b.span, message)
                        .label(format!("{} – {}", b.from, b.to))
                        .related(prev.span, format!("overlaps {} – {} of range `{prev_name}`", prev.from, prev.to))
                        .help("a number belongs to one block of one range: split or shorten one of them"),
                );
            }
            if prev.from.len() != b.from.len() || b.to > prev.to {
                reach = Some((b, name));
            }
        } else {
            reach = Some((b, name));
        }
    }
}

fn pins(m: &Manifest, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<crate::numbers::E164, (&str, Span)> = BTreeMap::new();
    for u in &m.users {
        let Some(n) = &u.number else { continue };
        if let Some((other, first)) = seen.get(&n.value) {
            diags.push(
                Diagnostic::error(
                    "duplicate-pin",
                    n.span,
                    format!(
                        "number `{}` is pinned to `{}` and to `{other}`",
                        n.value, u.upn.value
                    ),
                )
                .label("pinned again here")
                .related(*first, "first pinned here")
                .help("a number belongs to one user: pin another number"),
            );
        } else {
            seen.insert(n.value, (&u.upn.value, n.span));
        }
        if u.persona.is_none() && !u.ignore {
            // A pin alone is allowed; the persona comes from the rules.
        }
    }
}

fn unreachable_rules(m: &Manifest, diags: &mut Diagnostics) {
    for (i, r) in m.rules.iter().enumerate() {
        let shadow = m.rules[..i]
            .iter()
            .find(|earlier| earlier.when.is_empty() || earlier.when == r.when);
        if let Some(earlier) = shadow {
            let why = if earlier.when.is_empty() {
                "has no conditions and matches everyone"
            } else {
                "has the very same conditions"
            };
            diags.push(
                Diagnostic::warning(
                    "unreachable-rule",
                    r.name.span,
                    format!("rule `{}` can never match", r.name.value),
                )
                .label("never reached")
                .related(earlier.name.span, format!("rule `{}` {why}", earlier.name.value))
                .help("rules are tried in order (files by path, then top to bottom): move this rule up, or remove it"),
            );
        }
    }
}

fn unused_personas(m: &Manifest, diags: &mut Diagnostics) {
    for p in &m.personas {
        let used = m.rules.iter().any(|r| r.persona.value == p.name.value)
            || m.users
                .iter()
                .any(|u| u.persona.as_ref().is_some_and(|n| n.value == p.name.value));
        if !used {
            diags.push(
                Diagnostic::warning(
                    "unused-persona",
                    p.name.span,
                    format!(
                        "persona `{}` is used by no rule or user override",
                        p.name.value
                    ),
                )
                .label("unused")
                .help("add a rule with `persona=\"…\"`, or remove the persona"),
            );
        }
    }
}

//! Checks across items and files, after lowering: duplicate names, dangling
//! references, block order and overlaps, reserved numbers, rules that can
//! never match and personas nothing uses. Pushes every finding; no I/O.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::diag::{Diagnostic, Diagnostics};
use super::model::*;
use super::source::{Span, Spanned};
use crate::catalog;

pub fn validate(m: &Manifest, diags: &mut Diagnostics) {
    let rename = |what: &str| format!("{what} names are unique: rename or remove one");
    duplicates(
        diags,
        "range",
        m.ranges.iter().map(|r| &r.name),
        false,
        &rename("range"),
    );
    duplicates(
        diags,
        "persona",
        m.personas.iter().map(|p| &p.name),
        false,
        &rename("persona"),
    );
    duplicates(
        diags,
        "rule",
        m.rules.iter().map(|r| &r.name),
        false,
        &rename("rule"),
    );
    duplicates(
        diags,
        "user override",
        m.users.iter().map(|u| &u.upn),
        true,
        "a user has one override (user principal names compare without regard to case): \
         merge the two",
    );
    duplicates(
        diags,
        "test",
        m.tests.iter().map(|t| &t.name),
        false,
        &rename("test"),
    );
    references(m, diags);
    test_references(m, diags);
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
    help: &str,
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
                .help(help.to_string()),
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

/// A test's expected persona and range must exist (attributes were
/// checked when the test was read).
fn test_references(m: &Manifest, diags: &mut Diagnostics) {
    for t in &m.tests {
        let Some(e) = &t.expect else { continue };
        if let Expected::Persona(p) = &e.outcome {
            persona_ref(m, diags, p, &format!("test `{}`", t.name.value));
        }
        if let Some(r) = &e.range
            && m.range(&r.value).is_none()
        {
            let help =
                catalog::did_you_mean(&r.value, m.ranges.iter().map(|r| r.name.value.as_str()))
                    .unwrap_or_else(|| "name a range the persona draws numbers from".into());
            diags.push(
                Diagnostic::error(
                    "unknown-range",
                    r.span,
                    format!("test `{}` names unknown range `{}`", t.name.value, r.value),
                )
                .label("no such range")
                .help(help),
            );
        }
    }
}

fn references(m: &Manifest, diags: &mut Diagnostics) {
    let personas: HashSet<&str> = m.personas.iter().map(|p| p.name.value.as_str()).collect();
    for r in &m.rules {
        if !personas.contains(r.persona.value.as_str()) {
            persona_ref(m, diags, &r.persona, &format!("rule `{}`", r.name.value));
        }
    }
    for u in &m.users {
        if let Some(p) = &u.persona
            && !personas.contains(p.value.as_str())
        {
            persona_ref(m, diags, p, &format!("user override `{}`", u.upn.value));
        }
        if u.take_quarantined && u.number.is_none() {
            diags.push(
                Diagnostic::warning(
                    "take-quarantined-without-number",
                    u.span,
                    format!(
                        "user `{}` may take a number in quarantine, but pins no number",
                        u.upn.value
                    ),
                )
                .label("no `number` here")
                .help("`take-quarantined` only lets a pinned `number` out of quarantine: add the number, or remove `take-quarantined`"),
            );
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
                    .unwrap_or_else(|| {
                        if m.ranges.is_empty() {
                            "no range is defined: define this one, or remove it from `number`"
                                .into()
                        } else {
                            format!(
                                "defined ranges: {}",
                                m.ranges
                                    .iter()
                                    .map(|r| format!("`{}`", r.name.value))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                    });
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
                    .help("both ends of a block have the same number of digits: one has a digit too many or too few"),
                );
            } else if b.from > b.to {
                diags.push(
                    Diagnostic::error(
                        "block-reversed",
                        b.span,
                        format!("block starts at `{}`, after its end `{}`", b.from, b.to),
                    )
                    .label("from > to")
                    .help(format!("swap the ends: from `{}` to `{}`", b.to, b.from)),
                );
            } else {
                all.push((b, &r.name.value));
            }
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
                let shared = format!("{} – {}", b.from, b.to.min(prev.to));
                let message = if prev_name == name {
                    format!("blocks of range `{name}` overlap on {shared}")
                } else {
                    format!("ranges `{name}` and `{prev_name}` overlap on {shared}")
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
    // The first rule that matches everyone, and the first rule of each set
    // of conditions: the earlier of the two shadows a rule (one pass, so a
    // manifest of many rules is not checked pair by pair).
    let mut everyone: Option<usize> = None;
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, r) in m.rules.iter().enumerate() {
        let key = conditions_key(&r.when);
        let same = first.get(&key).copied();
        let shadow = match (everyone, same) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(|j| &m.rules[j]);
        first.entry(key).or_insert(i);
        if r.when.is_empty() && everyone.is_none() {
            everyone = Some(i);
        }
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
                .help("rules are tried in order (by file path, then top to bottom): move it up, or remove it"),
            );
        }
    }
}

/// A text that two lists of conditions share exactly when they say the
/// same thing up to the order of conditions and values and the case and
/// surrounding white space of values, as the rule engine compares them.
fn conditions_key(conds: &[Condition]) -> String {
    let mut keys: Vec<String> = conds.iter().map(condition_key).collect();
    keys.sort();
    keys.dedup();
    keys.join(",")
}

fn condition_key(c: &Condition) -> String {
    let fold = |s: &str| s.trim().to_lowercase();
    match c {
        Condition::All(cs, _) => format!("all({})", conditions_key(cs)),
        Condition::Any(cs, _) => format!("any({})", conditions_key(cs)),
        Condition::Not(cs, _) => format!("not({})", conditions_key(cs)),
        Condition::Attr(a) => {
            let mut values: Vec<String> = a.values.iter().map(|v| fold(v)).collect();
            values.sort();
            values.dedup();
            let mut ops: Vec<String> = a
                .ops
                .iter()
                .map(|o| match &o.value {
                    Op::StartsWith(s) | Op::EndsWith(s) | Op::Contains(s) => {
                        format!("{}:{:?}", o.value.keyword(), fold(s))
                    }
                    // Case matters inside a pattern (`\d` is not `\D`).
                    Op::Matches(p) => format!("matches:{:?}", p.source().trim()),
                    Op::Exists(b) => format!("exists:{b}"),
                })
                .collect();
            ops.sort();
            ops.dedup();
            format!("{}={values:?}{ops:?}", a.attribute)
        }
    }
}

fn unused_personas(m: &Manifest, diags: &mut Diagnostics) {
    let used: HashSet<&str> = m
        .rules
        .iter()
        .map(|r| r.persona.value.as_str())
        .chain(
            m.users
                .iter()
                .filter_map(|u| u.persona.as_deref().map(String::as_str)),
        )
        .collect();
    for p in &m.personas {
        if !used.contains(p.name.value.as_str()) {
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
                .help("name it as the `persona` of a rule or a user override, or remove it"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_str;

    fn when(kdl: &str) -> Vec<Condition> {
        let text = format!("rule \"r\" persona=\"p\" {{\n    when {{ {kdl} }}\n}}\n");
        let loaded = parse_str("x.kdl", &text);
        loaded.manifest.rules[0].when.clone()
    }

    #[test]
    fn same_conditions_ignore_order_case_and_white_space() {
        let same = [
            (
                "city \"London\"; department \"Sales\"",
                "department \" SALES \"; city \"london\"",
            ),
            ("city \"A\" \"B\"", "city \"b\" \"a\" \"A\""),
            (
                "any { city \"A\"; city \"B\" }",
                "any { city \"B\"; city \"A\" }",
            ),
            (
                "city starts-with=\"UK\" ends-with=\"x\"",
                "city ends-with=\"X\" starts-with=\"uk\"",
            ),
        ];
        for (a, b) in same {
            assert_eq!(
                conditions_key(&when(a)),
                conditions_key(&when(b)),
                "{a} / {b}"
            );
        }
        let different = [
            ("city \"London\"", "city \"Leeds\""),
            ("city \"A\"", "city \"A\" \"B\""),
            (
                "any { city \"A\"; city \"B\" }",
                "all { city \"A\"; city \"B\" }",
            ),
            ("city matches=\"\\\\d+\"", "city matches=\"\\\\D+\""),
            ("city exists=#true", "city exists=#false"),
        ];
        for (a, b) in different {
            assert_ne!(
                conditions_key(&when(a)),
                conditions_key(&when(b)),
                "{a} / {b}"
            );
        }
    }

    #[test]
    fn a_rule_is_shadowed_by_the_first_that_covers_it() {
        let text = "persona \"p\"\n\
            rule \"a\" persona=\"p\" { when { city \"X\" } }\n\
            rule \"all\" persona=\"p\"\n\
            rule \"b\" persona=\"p\" { when { city \"x\" } }\n\
            rule \"c\" persona=\"p\" { when { city \"y\" } }\n\
            rule \"all-again\" persona=\"p\"\n";
        let loaded = parse_str("x.kdl", text);
        let found: Vec<(String, String)> = loaded
            .diagnostics
            .items
            .iter()
            .filter(|d| d.code == "unreachable-rule")
            .map(|d| (d.message.clone(), d.related[0].1.clone()))
            .collect();
        let want = [
            ("b", "rule `a` has the very same conditions"),
            ("c", "rule `all` has no conditions and matches everyone"),
            (
                "all-again",
                "rule `all` has no conditions and matches everyone",
            ),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(r, why)| (format!("rule `{r}` can never match"), why.to_string()))
            .collect();
        assert_eq!(found, want);
    }
}

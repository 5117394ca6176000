//! The text of an import: one file per kind of item (tenant, ranges,
//! personas, rules, users, tests) in KDL or TOML, written plainly and then
//! put through `roster fmt`'s formatter, so the output is canonical. Every
//! user override carries a comment saying why it is there. Pure: no I/O.

use super::fixtures::TestDraft;
use super::personas::{NumberDraft, PersonaDraft};
use super::ranges::RangeDraft;
use super::rules::{Cond, RuleDraft};
use super::text::{kdl_props, kq, tarr, tenant, tinline, tk, tq};
use super::{Draft, UserDraft};
use crate::catalog;
use crate::format::{FmtError, format_kdl, format_toml};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Kdl,
    Toml,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Kdl => "kdl",
            Format::Toml => "toml",
        }
    }

    pub(super) fn comment(self) -> &'static str {
        match self {
            Format::Kdl => "//",
            Format::Toml => "#",
        }
    }
}

/// Every file of the draft, canonically formatted, in path order.
pub fn files(d: &Draft, f: Format) -> Result<Vec<(String, String)>, FmtError> {
    let mut out: Vec<(&str, String)> = Vec::new();
    let c = f.comment();
    let head = |what: &str| {
        format!("{c} {what}\n{c} Written by `roster import` from the live tenant.\n\n")
    };
    if let Some(t) = &d.tenant {
        out.push((
            "tenant",
            head("Tenant settings, as the config directory had them.") + &tenant(t, f),
        ));
    }
    let mut text = head(
        "Number ranges: the inventory's runs of numbers, per number type and emergency location.",
    );
    for r in &d.ranges {
        text.push_str(&range(r, f));
    }
    out.push(("ranges", text));
    let mut text =
        head("Personas: one per bundle of direct policy assignments that enough users hold.");
    let mut order: Vec<&PersonaDraft> = d.personas.iter().collect();
    order.sort_by(|a, b| a.name.cmp(&b.name));
    for p in order {
        text.push_str(&persona(p, &d.ranges, f));
    }
    out.push(("personas", text));
    let mut text =
        head("Rules, first match wins: each gives its users the persona they hold today.");
    for (r, name) in d.rules.iter().zip(rule_names(d)) {
        text.push_str(&rule(r, &name, &d.personas[r.persona as usize].name, f));
    }
    out.push(("rules", text));
    if !d.users.is_empty() {
        let mut text = head("User overrides: the users the rules do not describe, each with why.");
        for u in &d.users {
            text.push_str(&user(u, f));
        }
        out.push(("users", text));
    }
    if !d.tests.is_empty() {
        let mut text = head("Rule tests: one real user per persona, anonymised.");
        for t in &d.tests {
            text.push_str(&test(t, f));
        }
        out.push(("tests", text));
    }
    out.into_iter()
        .map(|(stem, text)| {
            let formatted = match f {
                Format::Kdl => format_kdl(&text)?,
                Format::Toml => format_toml(&text)?,
            };
            Ok((format!("{stem}.{}", f.ext()), formatted))
        })
        .collect()
}

/// Unique rule names: the persona and the attributes it reads.
fn rule_names(d: &Draft) -> Vec<String> {
    let mut used = std::collections::BTreeSet::new();
    d.rules
        .iter()
        .map(|r| {
            let persona = &d.personas[r.persona as usize].name;
            let what = if r.conds.is_empty() {
                "everyone else".to_string()
            } else {
                let attrs: Vec<&str> = r
                    .conds
                    .iter()
                    .map(|c| catalog::ATTRIBUTES[c.attr])
                    .collect();
                format!("by {}", attrs.join(" and "))
            };
            let base = format!("{persona} {what}");
            let name = (1..)
                .map(|i| {
                    if i == 1 {
                        base.clone()
                    } else {
                        format!("{base} ({i})")
                    }
                })
                .find(|n| !used.contains(n))
                .unwrap_or(base);
            used.insert(name.clone());
            name
        })
        .collect()
}

fn range(r: &RangeDraft, f: Format) -> String {
    let kind = r.kind.manifest_name();
    match f {
        Format::Kdl => {
            let mut s = format!("range {} type={}", kq(&r.name), kq(kind));
            if let Some(l) = &r.location {
                s.push_str(&format!(" location={}", kq(l)));
            }
            s.push_str(" {\n");
            for (from, to) in &r.blocks {
                s.push_str(&format!("block \"{from}\" \"{to}\"\n"));
            }
            s + "}\n\n"
        }
        Format::Toml => {
            let mut s = format!("[range.{}]\ntype = {}\n", tk(&r.name), tq(kind));
            if let Some(l) = &r.location {
                s.push_str(&format!("location = {}\n", tq(l)));
            }
            let blocks: Vec<String> = r
                .blocks
                .iter()
                .map(|(a, b)| format!("[\"{a}\", \"{b}\"]"))
                .collect();
            s.push_str(&format!("blocks = {}\n\n", tarr(&blocks)));
            s
        }
    }
}

fn persona(p: &PersonaDraft, ranges: &[RangeDraft], f: Format) -> String {
    let policy = |n: &Option<String>| n.clone().unwrap_or_else(|| "Global".into());
    let number = |q: fn(&str) -> String| -> Option<String> {
        match &p.number {
            NumberDraft::Unmanaged => None,
            NumberDraft::Forbidden => Some(if f == Format::Kdl {
                "#false".into()
            } else {
                "false".into()
            }),
            NumberDraft::Ranges(rs) => Some(
                rs.iter()
                    .map(|&r| q(&ranges[r].name))
                    .collect::<Vec<_>>()
                    .join(if f == Format::Kdl { " " } else { ", " }),
            ),
        }
    };
    match f {
        Format::Kdl => {
            let mut s = format!(
                "persona {} {{\ndescription {}\n",
                kq(&p.name),
                kq(&p.description)
            );
            if !p.policies.is_empty() {
                s.push_str("policies {\n");
                for (t, n) in &p.policies {
                    s.push_str(&format!("{t} {}\n", kq(&policy(n))));
                }
                s.push_str("}\n");
            }
            if let Some(n) = number(kq) {
                s.push_str(&format!("number {n}\n"));
            }
            s + "}\n\n"
        }
        Format::Toml => {
            let mut s = format!(
                "[persona.{}]\ndescription = {}\n",
                tk(&p.name),
                tq(&p.description)
            );
            match (&p.number, number(tq)) {
                (NumberDraft::Ranges(_), Some(n)) => s.push_str(&format!("number = [{n}]\n")),
                (_, Some(n)) => s.push_str(&format!("number = {n}\n")),
                _ => {}
            }
            if !p.policies.is_empty() {
                s.push_str(&format!("[persona.{}.policies]\n", tk(&p.name)));
                for (t, n) in &p.policies {
                    s.push_str(&format!("{t} = {}\n", tq(&policy(n))));
                }
            }
            s + "\n"
        }
    }
}

fn rule(r: &RuleDraft, name: &str, persona: &str, f: Format) -> String {
    let description = format!(
        "Imported: catches {} user{}, {} of whom hold {persona}'s policies today",
        r.caught,
        if r.caught == 1 { "" } else { "s" },
        r.explained
    );
    match f {
        Format::Kdl => {
            let mut s = format!(
                "rule {} persona={} {{\ndescription {}\n",
                kq(name),
                kq(persona),
                kq(&description)
            );
            if !r.conds.is_empty() {
                s.push_str("when {\n");
                for c in &r.conds {
                    s.push_str(&kdl_cond(c));
                }
                s.push_str("}\n");
            }
            s + "}\n\n"
        }
        Format::Toml => {
            let mut s = format!(
                "[[rule]]\nname = {}\npersona = {}\ndescription = {}\n",
                tq(name),
                tq(persona),
                tq(&description)
            );
            if !r.conds.is_empty() {
                let fields: Vec<(&str, String)> = r
                    .conds
                    .iter()
                    .map(|c| (catalog::ATTRIBUTES[c.attr], toml_values(&c.values)))
                    .collect();
                s.push_str(&format!("when = {}\n", tinline(&fields)));
            }
            s + "\n"
        }
    }
}

fn kdl_cond(c: &Cond) -> String {
    let values: Vec<String> = c.values.iter().map(|v| kq(v)).collect();
    format!("{} {}\n", catalog::ATTRIBUTES[c.attr], values.join(" "))
}

fn toml_values(values: &[String]) -> String {
    let vs: Vec<String> = values.iter().map(|v| tq(v)).collect();
    if vs.len() == 1 {
        vs[0].clone()
    } else {
        tarr(&vs)
    }
}

fn user(u: &UserDraft, f: Format) -> String {
    let mut fields: Vec<(&str, String)> = Vec::new();
    let q = |s: &str| if f == Format::Kdl { kq(s) } else { tq(s) };
    if let Some(p) = &u.persona {
        fields.push(("persona", q(p)));
    }
    if let Some(n) = &u.number {
        fields.push(("number", q(&n.to_string())));
    }
    if u.ignore {
        fields.push((
            "ignore",
            if f == Format::Kdl {
                "#true".into()
            } else {
                "true".into()
            },
        ));
    }
    let why = u.why.replace(['\n', '\r'], " ");
    match f {
        Format::Kdl => format!("// {why}\nuser {} {}\n\n", kq(&u.upn), kdl_props(&fields)),
        Format::Toml => {
            let mut s = format!("# {why}\n[user.{}]\n", tq(&u.upn));
            for (k, v) in fields {
                s.push_str(&format!("{k} = {v}\n"));
            }
            s + "\n"
        }
    }
}

fn test(t: &TestDraft, f: Format) -> String {
    let q = |s: &str| if f == Format::Kdl { kq(s) } else { tq(s) };
    let mut expect: Vec<(&str, String)> = vec![("persona", q(&t.persona))];
    if let Some(r) = &t.range {
        expect.push(("range", q(r)));
    }
    match f {
        Format::Kdl => {
            let attrs: Vec<String> = t
                .attrs
                .iter()
                .map(|(k, v)| format!("{k}={}", kq(v)))
                .collect();
            let mut s = format!("test {} {{\nuser {}", kq(&t.name), attrs.join(" "));
            if t.member_of.is_empty() {
                s.push('\n');
            } else {
                s.push_str(" {\n");
                for g in &t.member_of {
                    s.push_str(&format!("memberOf {}\n", kq(g)));
                }
                s.push_str("}\n");
            }
            s.push_str(&format!("expect {}\n}}\n\n", kdl_props(&expect)));
            s
        }
        Format::Toml => {
            let mut user: Vec<(&str, String)> =
                t.attrs.iter().map(|(k, v)| (k.as_str(), tq(v))).collect();
            if !t.member_of.is_empty() {
                user.push((
                    "memberOf",
                    tarr(&t.member_of.iter().map(|g| tq(g)).collect::<Vec<_>>()),
                ));
            }
            format!(
                "[[test]]\nname = {}\nuser = {}\nexpect = {}\n\n",
                tq(&t.name),
                tinline(&user),
                tinline(&expect)
            )
        }
    }
}

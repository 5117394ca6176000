//! The text of an import: one file per kind of item (tenant, ranges,
//! personas, rules, users, tests) in KDL or TOML, written plainly and then
//! put through `roster fmt`'s formatter, so the output is canonical. Every
//! user override carries a comment saying why it is there. Pure: no I/O.

use super::fixtures::TestDraft;
use super::personas::{NumberDraft, PersonaDraft};
use super::ranges::RangeDraft;
use super::rules::{Cond, RuleDraft};
use super::{Draft, UserDraft};
use crate::catalog;
use crate::format::{FmtError, format_kdl, format_toml};
use crate::manifest::{Condition, Op, ProviderConfig, Tenant};

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

    fn comment(self) -> &'static str {
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

fn kq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn tq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be.
fn tk(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_string()
    } else {
        tq(s)
    }
}

fn tarr(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

fn tenant(t: &Tenant, f: Format) -> String {
    let default = Tenant::default();
    let kb = |b: bool| if b { "#true" } else { "#false" }.to_string();
    let tb = |b: bool| b.to_string();
    let boolean = |b: bool| if f == Format::Kdl { kb(b) } else { tb(b) };
    let q = |s: &str| if f == Format::Kdl { kq(s) } else { tq(s) };
    let mut body = String::new();
    match f {
        Format::Kdl => body.push_str(&format!("tenant {} {{\n", kq(&t.name))),
        Format::Toml => body.push_str(&format!("[tenant]\nname = {}\n", tq(&t.name))),
    }
    if let Some(p) = &t.provider {
        let (kind, fields): (&str, Vec<(&str, Option<String>)>) = match &p.value {
            ProviderConfig::File { path } => ("file", vec![("path", Some(path.clone()))]),
            ProviderConfig::Graph(g) => (
                "graph",
                vec![
                    ("tenant-id", Some(g.tenant_id.clone())),
                    ("client-id", Some(g.client_id.clone())),
                    ("client-secret-env", g.client_secret_env.clone()),
                    ("client-secret-file", g.client_secret_file.clone()),
                    ("certificate-file", g.certificate_file.clone()),
                    ("private-key-file", g.private_key_file.clone()),
                    (
                        "federated",
                        g.federated.map(|x| x.as_manifest().to_string()),
                    ),
                    ("federated-token-file", g.federated_token_file.clone()),
                    ("service-connection-id", g.service_connection_id.clone()),
                    ("endpoint", g.endpoint.clone()),
                    ("authority", g.authority.clone()),
                ],
            ),
        };
        let fields: Vec<(&str, String)> = fields
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, q(&v))))
            .collect();
        match f {
            Format::Kdl => {
                body.push_str(&format!("provider {} {}\n", kq(kind), kdl_props(&fields)))
            }
            Format::Toml => {
                let mut all = vec![("kind", tq(kind))];
                all.extend(fields);
                body.push_str(&format!("provider = {}\n", tinline(&all)));
            }
        }
    }
    if let Some(scope) = &t.scope {
        match f {
            Format::Kdl => body.push_str(&format!(
                "scope {{\n{}}}\n",
                kdl_conds(std::slice::from_ref(scope))
            )),
            Format::Toml => body.push_str(&format!(
                "scope = {}\n",
                toml_conds(std::slice::from_ref(scope))
            )),
        }
    }
    let groups: [(&str, Vec<(&str, String)>); 3] = [
        (
            "leavers",
            vec![
                ("release-number", boolean(t.leavers.release_number)),
                ("reset-policies", boolean(t.leavers.reset_policies)),
            ],
        ),
        ("safety", {
            let s = &t.safety;
            let mut v = Vec::new();
            if let Some(n) = s.max_changed_users {
                v.push(("max-changed-users", n.to_string()));
            }
            if let Some(n) = s.max_changed_percent {
                v.push(("max-changed-percent", n.to_string()));
            }
            v.push(("max-emptied-percent", s.max_emptied_percent.to_string()));
            v.push((
                "max-scope-drop-percent",
                s.max_scope_drop_percent.to_string(),
            ));
            v
        }),
        (
            "numbers",
            vec![(
                "quarantine",
                q(&humantime::format_duration(t.numbers.quarantine).to_string()),
            )],
        ),
    ];
    let differs = [
        t.leavers != default.leavers,
        t.safety != default.safety,
        t.numbers != default.numbers,
    ];
    for ((name, fields), differs) in groups.into_iter().zip(differs) {
        if differs {
            match f {
                Format::Kdl => body.push_str(&format!("{name} {}\n", kdl_props(&fields))),
                Format::Toml => body.push_str(&format!("{name} = {}\n", tinline(&fields))),
            }
        }
    }
    if t.paused {
        match f {
            Format::Kdl => body.push_str("paused #true\n"),
            Format::Toml => body.push_str("paused = true\n"),
        }
    }
    if f == Format::Kdl {
        body.push_str("}\n");
    }
    body + "\n"
}

fn kdl_props(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn tinline(fields: &[(&str, String)]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{} = {v}", tk(k)))
        .collect();
    format!("{{ {} }}", inner.join(", "))
}

/// Conditions as the lines of a KDL block.
fn kdl_conds(conds: &[Condition]) -> String {
    let mut out = String::new();
    for c in conds {
        match c {
            Condition::All(cs, _) => out.push_str(&format!("all {{\n{}}}\n", kdl_conds(cs))),
            Condition::Any(cs, _) => out.push_str(&format!("any {{\n{}}}\n", kdl_conds(cs))),
            Condition::Not(cs, _) => out.push_str(&format!("not {{\n{}}}\n", kdl_conds(cs))),
            Condition::Attr(a) => {
                let mut line = catalog::ATTRIBUTES[a.attribute].to_string();
                for v in &a.values {
                    line.push(' ');
                    line.push_str(&kq(v));
                }
                for op in &a.ops {
                    line.push(' ');
                    line.push_str(&format!(
                        "{}={}",
                        op.value.keyword(),
                        op_value(&op.value, Format::Kdl)
                    ));
                }
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

fn op_value(op: &Op, f: Format) -> String {
    let q = |s: &str| if f == Format::Kdl { kq(s) } else { tq(s) };
    match op {
        Op::StartsWith(s) | Op::EndsWith(s) | Op::Contains(s) => q(s),
        Op::Matches(p) => q(p.source()),
        Op::Exists(b) => match (f, b) {
            (Format::Kdl, true) => "#true".into(),
            (Format::Kdl, false) => "#false".into(),
            (Format::Toml, b) => b.to_string(),
        },
    }
}

/// Conditions as one TOML inline table (the `all` of them). A key used
/// twice (two tests of one attribute) goes into `all = [ … ]`.
fn toml_conds(conds: &[Condition]) -> String {
    let mut flat: Vec<&Condition> = Vec::new();
    fn flatten<'a>(cs: &'a [Condition], out: &mut Vec<&'a Condition>) {
        for c in cs {
            match c {
                Condition::All(inner, _) => flatten(inner, out),
                c => out.push(c),
            }
        }
    }
    flatten(conds, &mut flat);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut extra: Vec<String> = Vec::new();
    for c in flat {
        let (key, value) = match c {
            Condition::Any(cs, _) => (
                "any".to_string(),
                tarr(
                    &cs.iter()
                        .map(|c| toml_conds(std::slice::from_ref(c)))
                        .collect::<Vec<_>>(),
                ),
            ),
            Condition::Not(cs, _) => ("not".to_string(), toml_conds(cs)),
            Condition::Attr(a) => {
                let values: Vec<String> = a.values.iter().map(|v| tq(v)).collect();
                let value = if a.ops.is_empty() {
                    if values.len() == 1 {
                        values[0].clone()
                    } else {
                        tarr(&values)
                    }
                } else {
                    let mut ops: Vec<(&str, String)> = Vec::new();
                    if !values.is_empty() {
                        ops.push(("equals", tarr(&values)));
                    }
                    for op in &a.ops {
                        ops.push((op.value.keyword(), op_value(&op.value, Format::Toml)));
                    }
                    tinline(&ops)
                };
                (catalog::ATTRIBUTES[a.attribute].to_string(), value)
            }
            Condition::All(..) => continue,
        };
        if fields.iter().any(|(k, _)| *k == key) {
            extra.push(format!("{{ {} = {value} }}", tk(&key)));
        } else {
            fields.push((key, value));
        }
    }
    if !extra.is_empty() {
        fields.push(("all".into(), tarr(&extra)));
    }
    let inner: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{} = {v}", tk(k)))
        .collect();
    format!("{{ {} }}", inner.join(", "))
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

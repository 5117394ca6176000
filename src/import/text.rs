//! The text of values, conditions and the tenant settings in KDL and
//! TOML: quoting, inline tables, and the whole condition language (the
//! tenant `scope` may use any of it). Pure: no I/O.

use super::emit::Format;
use crate::catalog;
use crate::manifest::{Condition, Op, ProviderConfig, Tenant};

/// A KDL string.
pub(super) fn kq(s: &str) -> String {
    quote(s, |c| format!("\\u{{{:x}}}", c as u32))
}

/// A TOML basic string.
pub(super) fn tq(s: &str) -> String {
    quote(s, |c| format!("\\u{:04X}", c as u32))
}

/// `s` in double quotes, with the escapes KDL and TOML share and `control`
/// writing any other control character.
fn quote(s: &str, control: impl Fn(char) -> String) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&control(c)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be.
pub(super) fn tk(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_string()
    } else {
        tq(s)
    }
}

pub(super) fn tarr(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

pub(super) fn tenant(t: &Tenant, f: Format) -> String {
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
        // `scope { … }` is the `all` of its lines: written as they were.
        let conds = match scope {
            Condition::All(cs, _) => cs.as_slice(),
            c => std::slice::from_ref(c),
        };
        match f {
            Format::Kdl => body.push_str(&format!("scope {{\n{}}}\n", kdl_conds(conds))),
            Format::Toml => body.push_str(&format!("scope = {}\n", toml_conds(conds))),
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

pub(super) fn kdl_props(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn tinline(fields: &[(&str, String)]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{} = {v}", tk(k)))
        .collect();
    format!("{{ {} }}", inner.join(", "))
}

/// Conditions as the lines of a KDL block.
pub(super) fn kdl_conds(conds: &[Condition]) -> String {
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

pub(super) fn op_value(op: &Op, f: Format) -> String {
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
pub(super) fn toml_conds(conds: &[Condition]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kdl_and_toml_strings_share_escapes_but_not_the_unicode_one() {
        let s = "a\\b\"c\nd\re\tf\u{1}g";
        assert_eq!(kq(s), r#""a\\b\"c\nd\re\tf\u{1}g""#);
        assert_eq!(tq(s), r#""a\\b\"c\nd\re\tf\u0001g""#);
    }
}

//! `roster explain USER`: why a user gets what it gets.

use std::fmt::Write as _;

use super::{Failure, Global, Result, load_valid, open_provider};
use crate::desired::{self, Engine};
use crate::rules::{self, Trace};

pub fn explain(g: &Global, key: &str) -> Result<u8> {
    let loaded = load_valid(g)?;
    let mut provider = open_provider(g, &loaded)?;
    let live = provider.fetch()?;
    let Some(index) = live.find_user_index(key) else {
        return Err(Failure::new(format!(
            "no user `{key}` in the tenant\nhint: give a user principal name or an object id"
        )));
    };
    print!("{}", render(&loaded.manifest, &live, index));
    Ok(0)
}

/// The explanation as text. Pure.
pub fn render(
    m: &crate::manifest::Manifest,
    live: &crate::live::LiveState,
    index: usize,
) -> String {
    let user = &live.users[index];
    let engine = Engine::new(m, live);
    let subject = engine.subject(live, index);
    let mut out = String::new();
    let _ = writeln!(out, "user {} ({})", user.upn, user.id);
    if let Some(n) = &user.display_name {
        let _ = writeln!(out, "  displayName: {n}");
    }
    let _ = writeln!(out, "  accountEnabled: {}", user.account_enabled);
    let ov = desired::override_for(m, user);

    let settings = m.settings();
    if let Some(scope) = &settings.scope {
        let trace = rules::explain(std::slice::from_ref(scope), &engine.scope, &subject);
        let _ = writeln!(out, "\nscope: {}", verdict(engine.in_scope(&subject)));
        write_traces(&mut out, &trace, 2);
    }
    if ov.is_some_and(|o| o.ignore) {
        let _ = writeln!(
            out,
            "\nignored by a user override: roster never touches this user."
        );
    } else if !engine.in_scope(&subject) {
        let _ = writeln!(out, "\nout of scope: roster never touches this user.");
    } else if !user.account_enabled {
        let _ = writeln!(
            out,
            "\nleaver (account disabled): rules are not evaluated; release-number={}, reset-policies={}",
            settings.leavers.release_number, settings.leavers.reset_policies
        );
    } else if let Some(p) = ov.and_then(|o| o.persona.as_ref()) {
        let _ = writeln!(
            out,
            "\npersona `{}` from a user override (rules are not evaluated)",
            p.value
        );
    } else {
        let _ = writeln!(out, "\nrules, in order:");
        let mut matched = false;
        for (rule, compiled) in m.rules.iter().zip(&engine.rules) {
            let holds = rules::holds_all(compiled, &subject);
            let _ = writeln!(
                out,
                "  {} rule \"{}\" -> persona {}{}",
                if holds { "✓" } else { "✗" },
                rule.name.value,
                rule.persona.value,
                if rule.when.is_empty() {
                    " (no conditions: matches everyone)"
                } else {
                    ""
                }
            );
            write_traces(&mut out, &rules::explain(&rule.when, compiled, &subject), 6);
            if holds {
                matched = true;
                break;
            }
        }
        if !matched {
            let _ = writeln!(
                out,
                "\nunmatched: no rule matches, so roster leaves this user alone."
            );
        }
    }

    // Desired versus live, from the same computation the plan uses.
    let state = desired::compute(m, live);
    let _ = writeln!(out, "\nlive direct assignments:");
    if user.policies.is_empty() {
        let _ = writeln!(out, "  (none: Global or group assignments apply)");
    }
    for (t, n) in &user.policies {
        let _ = writeln!(out, "  {t}: {n}");
    }
    let held = live.numbers_by_holder();
    let numbers = held.get(user.id.as_str()).cloned().unwrap_or_default();
    let _ = writeln!(
        out,
        "live numbers: {}",
        if numbers.is_empty() {
            "(none)".to_string()
        } else {
            numbers
                .iter()
                .map(|n| {
                    format!(
                        "{} ({})",
                        n.number,
                        n.category.as_deref().unwrap_or("primary")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let groups: Vec<_> = live
        .group_policies
        .iter()
        .filter(|g| {
            user.groups
                .iter()
                .any(|&i| live.groups[i as usize].id == g.group_id)
        })
        .collect();
    if !groups.is_empty() {
        let _ = writeln!(
            out,
            "group policy assignments (apply where no direct assignment):"
        );
        for g in groups {
            let _ = writeln!(
                out,
                "  {}: {} (rank {}, group {})",
                g.policy_type, g.policy_name, g.rank, g.group_id
            );
        }
    }
    if let Some(d) = state.users.iter().find(|d| d.user == index) {
        let _ = writeln!(
            out,
            "\ndesired (persona {}):",
            d.persona.as_deref().unwrap_or("-")
        );
        for (t, p) in d.policies.iter() {
            let live_v = user.policies.get(t).map(String::as_str).unwrap_or("Global");
            let want = p.as_deref().unwrap_or("Global");
            let mark = if live_v.eq_ignore_ascii_case(want) {
                "="
            } else {
                "~"
            };
            let _ = writeln!(out, "  {mark} {t}: {want} (live: {live_v})");
        }
        for n in &d.release {
            let _ = writeln!(out, "  - number {n} released");
        }
        if let Some(a) = &d.assign {
            let _ = writeln!(
                out,
                "  + number {} ({})",
                a.number,
                a.range.as_deref().unwrap_or("pinned")
            );
        }
    }
    for e in state
        .errors
        .iter()
        .filter(|e| e.user.as_deref() == Some(user.upn.as_str()))
    {
        let _ = writeln!(out, "error: [{}] {}", e.code, e.message);
    }
    out
}

fn verdict(b: bool) -> &'static str {
    if b { "in scope" } else { "out of scope" }
}

fn write_traces(out: &mut String, traces: &[Trace], indent: usize) {
    for t in traces {
        let value = match &t.value {
            Some(v) => format!(" (value: {v:?})"),
            None if t.children.is_empty() => " (value: missing)".to_string(),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{:indent$}{} {}{value}",
            "",
            if t.holds { "✓" } else { "✗" },
            t.test,
            indent = indent
        );
        write_traces(out, &t.children, indent + 2);
    }
}

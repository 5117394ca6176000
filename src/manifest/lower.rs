//! Value-level checks shared by the KDL and TOML lowerings: attribute
//! names, operators, E.164 numbers, policy types, number types. Each pushes
//! a diagnostic and returns `None` when the value is wrong, so the caller
//! carries on and the run reports every problem.

use crate::catalog::{self, ATTRIBUTES, POLICY_TYPES};
use crate::numbers::{E164, NumberType};

use super::diag::{Diagnostic, Diagnostics};
use super::model::{Op, PolicySetting};
use super::source::{Span, Spanned};

pub const TOP_LEVEL_ITEMS: &[&str] = &["tenant", "range", "persona", "rule", "user"];

pub fn unknown(diags: &mut Diagnostics, what: &str, name: &str, span: Span, known: &[&str]) {
    let help = catalog::did_you_mean(name, known.iter().copied())
        .unwrap_or_else(|| format!("expected one of: {}", list(known)));
    diags.push(
        Diagnostic::error("unknown-item", span, format!("unknown {what} `{name}`"))
            .label(format!("unknown {what}"))
            .help(help),
    );
}

pub fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn attribute(diags: &mut Diagnostics, name: &str, span: Span) -> Option<usize> {
    if let Some(id) = catalog::attribute(name) {
        return Some(id);
    }
    let help = catalog::did_you_mean(name, ATTRIBUTES.iter().copied()).unwrap_or_else(|| {
        "attributes are Microsoft Graph user properties (jobTitle, department, city, …), \
         extensionAttribute1 to extensionAttribute15, and memberOf"
            .into()
    });
    diags.push(
        Diagnostic::error(
            "unknown-attribute",
            span,
            format!("unknown attribute `{name}`"),
        )
        .label("not a user attribute")
        .help(help),
    );
    None
}

/// An operator with a string argument (`starts-with`, …, `matches`).
pub fn string_op(diags: &mut Diagnostics, key: &str, value: &str, span: Span) -> Option<Op> {
    let op = match key {
        "starts-with" => Op::StartsWith(value.to_string()),
        "ends-with" => Op::EndsWith(value.to_string()),
        "contains" => Op::Contains(value.to_string()),
        "matches" => {
            if let Err(e) = crate::rules::compile_pattern(value) {
                diags.push(
                    Diagnostic::error(
                        "invalid-regex",
                        span,
                        format!("invalid regular expression `{value}`"),
                    )
                    .label("does not compile")
                    .help(first_line(&e.to_string())),
                );
                return None;
            }
            Op::Matches(value.to_string())
        }
        "exists" => {
            diags.push(
                Diagnostic::error("wrong-type", span, "`exists` takes a boolean")
                    .label("expected #true or #false")
                    .help("write `exists=#true` (KDL) or `exists = true` (TOML)"),
            );
            return None;
        }
        other => {
            unknown(diags, "operator", other, span, super::model::OPERATORS);
            return None;
        }
    };
    Some(op)
}

fn first_line(s: &str) -> String {
    // regex errors are multi-line pictures; keep the last, explanatory line.
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

pub fn e164(diags: &mut Diagnostics, text: &str, span: Span) -> Option<E164> {
    match E164::parse(text) {
        Ok(n) => Some(n),
        Err(e) => {
            let cleaned: String = text
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect();
            let cleaned = if cleaned.starts_with('+') {
                cleaned
            } else {
                format!("+{cleaned}")
            };
            let help = match E164::parse(&cleaned) {
                Ok(n) if n.to_string() != text => format!("write it as `{n}`"),
                _ => "E.164: `+`, the country code and the number, 8 to 15 digits in all, \
                      e.g. `+442071230000`"
                    .to_string(),
            };
            diags.push(
                Diagnostic::error(
                    "invalid-number",
                    span,
                    format!("`{text}` is not an E.164 telephone number"),
                )
                .label(e.to_string())
                .help(help),
            );
            None
        }
    }
}

pub fn number_type(diags: &mut Diagnostics, text: &str, span: Span) -> Option<NumberType> {
    let t = NumberType::from_manifest(text);
    if t.is_none() {
        let known = ["direct-routing", "calling-plan", "operator-connect"];
        unknown(diags, "number type", text, span, &known);
    }
    t
}

pub fn policy(
    diags: &mut Diagnostics,
    type_name: &str,
    type_span: Span,
    policy_name: &str,
    span: Span,
) -> Option<PolicySetting> {
    let Some(canonical) = catalog::policy_type(type_name) else {
        let help =
            catalog::did_you_mean(type_name, POLICY_TYPES.iter().copied()).unwrap_or_else(|| {
                "policy types are the Teams per-user policy types (TeamsCallingPolicy, \
                TenantDialPlan, …); see the README for the catalog"
                    .into()
            });
        diags.push(
            Diagnostic::error(
                "unknown-policy-type",
                type_span,
                format!("unknown policy type `{type_name}`"),
            )
            .label("not a Teams policy type")
            .help(help),
        );
        return None;
    };
    let trimmed = policy_name.trim();
    if trimmed.is_empty() {
        diags.push(
            Diagnostic::error("empty-value", span, "empty policy name")
                .label("policy name expected")
                .help("name a policy, or `Global` for no direct assignment"),
        );
        return None;
    }
    let trimmed = trimmed.strip_prefix("Tag:").unwrap_or(trimmed);
    Some(PolicySetting {
        policy_type: Spanned::new(canonical.to_string(), type_span),
        policy: (!trimmed.eq_ignore_ascii_case("global")).then(|| trimmed.to_string()),
        span,
    })
}

pub fn wrong_type(diags: &mut Diagnostics, span: Span, what: &str, expected: &str, hint: &str) {
    diags.push(
        Diagnostic::error("wrong-type", span, format!("{what} must be {expected}"))
            .label(format!("expected {expected}"))
            .help(hint.to_string()),
    );
}

pub fn duplicate_key(diags: &mut Diagnostics, span: Span, key: &str, first: Span) {
    diags.push(
        Diagnostic::error(
            "duplicate-property",
            span,
            format!("`{key}` is given twice"),
        )
        .label("given again here")
        .related(first, "first given here")
        .help(format!("keep one `{key}`")),
    );
}

pub fn missing(diags: &mut Diagnostics, span: Span, what: &str, hint: &str) {
    diags.push(
        Diagnostic::error("missing-property", span, format!("missing {what}"))
            .label(format!("needs {what}"))
            .help(hint.to_string()),
    );
}

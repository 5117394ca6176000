//! Value-level checks shared by the KDL and TOML lowerings: attribute
//! names, operators, E.164 numbers, policy types, number types. Each pushes
//! a diagnostic and returns `None` when the value is wrong, so the caller
//! carries on and the run reports every problem.

use crate::catalog::{self, ATTRIBUTES, POLICY_TYPES};
use crate::numbers::{E164, NumberType};

use super::depth;
use super::diag::{Diagnostic, Diagnostics};
use super::keys::{self, Item};
use super::model::{
    AzureBlobConfig, Expectation, Expected, Federation, Op, PolicySetting, StateConfig,
};
use super::pattern::Pattern;
use super::source::{FileId, Span, Spanned};

pub fn unknown(diags: &mut Diagnostics, what: &str, name: &str, span: Span, known: &[&str]) {
    diags.push(
        Diagnostic::error("unknown-item", span, format!("unknown {what} `{name}`"))
            .label(format!("unknown {what}"))
            .help(known_help(name, known)),
    );
}

/// `unknown property `x` of `leavers``: an unknown key inside something.
pub fn unknown_in(
    diags: &mut Diagnostics,
    what: &str,
    name: &str,
    owner: &str,
    span: Span,
    known: &[&str],
) {
    diags.push(
        Diagnostic::error(
            "unknown-item",
            span,
            format!("unknown {what} `{name}` in {owner}"),
        )
        .label(format!("unknown {what}"))
        .help(known_help(name, known)),
    );
}

fn known_help(name: &str, known: &[&str]) -> String {
    catalog::did_you_mean(name, known.iter().copied()).unwrap_or_else(|| match known {
        [] => "remove it".to_string(),
        [one] => format!("the only one allowed here is `{one}`"),
        _ => format!("expected one of: {}", list(known)),
    })
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
        "matches" => match Pattern::new(value) {
            Ok(p) => Op::Matches(p),
            Err(e) => {
                diags.push(
                    Diagnostic::error(
                        "invalid-regex",
                        span,
                        format!("invalid regular expression `{value}`"),
                    )
                    .label(regex_reason(&e))
                    .help(regex_help(value)),
                );
                return None;
            }
        },
        "exists" => {
            diags.push(
                Diagnostic::error("wrong-type", span, "`exists` takes a boolean")
                    .label("expected #true or #false")
                    .help("write `exists=#true` (KDL) or `exists = true` (TOML)"),
            );
            return None;
        }
        other => {
            unknown(
                diags,
                "operator",
                other,
                span,
                &Item::Operators.kdl_properties(),
            );
            return None;
        }
    };
    Some(op)
}

fn regex_help(pattern: &str) -> String {
    let p = pattern.trim();
    match p.strip_prefix('*') {
        // A shell glob, most likely.
        Some(rest) => format!(
            "a regular expression is not a wildcard: for anything followed by `{rest}` write `.*{rest}`"
        ),
        None => "`matches` takes a regular expression for the whole value; \
                 put a `\\` before `(`, `[`, `*` and the like to match them literally"
            .to_string(),
    }
}

/// Why a pattern does not compile, in a few words.
fn regex_reason(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(_) => "too large once compiled".to_string(),
        // Syntax errors are multi-line pictures of the pattern; keep the
        // last, explanatory line.
        other => {
            let s = other.to_string();
            let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(&s);
            let last = last.trim();
            last.strip_prefix("error: ").unwrap_or(last).to_string()
        }
    }
}

pub fn e164(diags: &mut Diagnostics, text: &str, span: Span) -> Option<E164> {
    match E164::parse(text) {
        Ok(n) => Some(n),
        Err(e) => {
            let example = "E.164: `+`, the country code and the number, 8 to 15 digits in all, \
                           e.g. `+442071230000`";
            if text.trim().is_empty() {
                diags.push(
                    Diagnostic::error("invalid-number", span, "empty telephone number")
                        .label("number expected")
                        .help(example),
                );
                return None;
            }
            let help = match formatted_e164(text) {
                Some(n) => format!("write it as `{n}`"),
                None => example.to_string(),
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

/// The E.164 number a human wrote with formatting (`tel:`, spaces, dashes,
/// dots, brackets, a missing `+`), if that is all that is wrong. Anything
/// else (a letter, a digit too many) gets no suggestion: guessing would
/// name a different number.
fn formatted_e164(text: &str) -> Option<E164> {
    let t = text.trim();
    let t = t.strip_prefix("tel:").unwrap_or(t);
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')' | '/'))
        || t.matches('+').count() > 1
        || t.find('+').is_some_and(|i| i > 0)
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    E164::parse(&format!("+{digits}"))
        .ok()
        .filter(|n| n.to_string() != text)
}

/// A quarantine period: a duration in humantime's words (`7d`, `12h`,
/// `1w 2d`) or `0`.
pub fn quarantine(diags: &mut Diagnostics, text: &str, span: Span) -> Option<std::time::Duration> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) => Some(d),
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "invalid-duration",
                    span,
                    format!("`{text}` is not a duration"),
                )
                .label(e.to_string())
                .help("write a duration such as `30d`, `12h` or `1w`, or `0` for no quarantine"),
            );
            None
        }
    }
}

/// A calendar date written `YYYY-MM-DD`.
pub fn date(diags: &mut Diagnostics, text: &str, span: Span) -> Option<String> {
    let t = text.trim();
    let parts: Vec<&str> = t.split('-').collect();
    let valid = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            match (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) {
                (Ok(y), Ok(m), Ok(d)) => time::Month::try_from(m)
                    .ok()
                    .and_then(|m| time::Date::from_calendar_date(y, m, d).ok())
                    .is_some(),
                _ => false,
            }
        }
        _ => false,
    };
    if valid {
        return Some(t.to_string());
    }
    diags.push(
        Diagnostic::error("invalid-date", span, format!("`{text}` is not a date"))
            .label("YYYY-MM-DD expected")
            .help("write the day the override stops applying, e.g. `2027-03-31`"),
    );
    None
}

pub fn number_type(diags: &mut Diagnostics, text: &str, span: Span) -> Option<NumberType> {
    let t = NumberType::from_manifest(text);
    if t.is_none() {
        unknown(diags, "number type", text, span, keys::NUMBER_TYPES);
    }
    t
}

pub fn federation(diags: &mut Diagnostics, text: &str, span: Span) -> Option<Federation> {
    let f = Federation::from_manifest(text);
    if f.is_none() {
        unknown(
            diags,
            "federated token source",
            text,
            span,
            keys::FEDERATED_SOURCES,
        );
    }
    f
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
                "policy types are the Teams per-user policy types, spelt as in \
                 `Grant-Cs<Type>` (`TeamsCallingPolicy`, `TenantDialPlan`, …); \
                 `roster schema` lists every one roster knows"
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

/// The help for a value that should have been a string: quote what was
/// written (`source`, the value's own text), or say how strings look.
pub fn quote_hint(source: Option<&str>) -> String {
    match source.map(str::trim) {
        Some(s) if !s.is_empty() && !s.contains(['"', '\n']) && s.len() <= 40 => {
            format!("quote it: `\"{s}\"`")
        }
        _ => "strings are written in double quotes".to_string(),
    }
}

/// The help for a whole number out of its range, or not a number at all.
pub fn integer_hint(parsed: Option<i128>, max: i128) -> String {
    match parsed {
        Some(i) => format!("`{i}` is out of range: use a number from 0 to {max}"),
        None => format!("write a number without quotes, e.g. `{}`", max.min(500)),
    }
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

/// `state "azure-blob"`: the account and container are required.
pub fn azure_blob(
    diags: &mut Diagnostics,
    a: AzureBlobConfig,
    span: Span,
) -> Option<Spanned<StateConfig>> {
    let mut ok = true;
    for (key, value) in [("account", &a.account), ("container", &a.container)] {
        if value.trim().is_empty() {
            missing(
                diags,
                span,
                &format!("`{key}`"),
                "write `state \"azure-blob\" account=\"contosoroster\" container=\"roster\" path=\"contoso/\"`",
            );
            ok = false;
        }
    }
    ok.then(|| Spanned::new(StateConfig::AzureBlob(a), span))
}

pub fn missing(diags: &mut Diagnostics, span: Span, what: &str, hint: &str) {
    diags.push(
        Diagnostic::error("missing-property", span, format!("missing {what}"))
            .label(format!("needs {what}"))
            .help(hint.to_string()),
    );
}

/// A file nested deeper than [`depth::MAX_DEPTH`]: reported instead of
/// parsing it, at the first place too deep.
pub fn too_deep(file: FileId, at: usize) -> Diagnostic {
    Diagnostic::error("too-deep", Span::new(file, at..at + 1), depth::message())
        .label("too deep")
        .help(format!(
            "a manifest may nest at most {} levels; flatten the conditions (an `any` of \
             `all`s says what deeper nesting says)",
            depth::MAX_DEPTH
        ))
}

/// More than one `tenant` item in the config directory.
pub fn duplicate_tenant(span: Span, first: Span) -> Diagnostic {
    Diagnostic::error(
        "duplicate-tenant",
        span,
        "more than one `tenant` item: a config directory holds at most one",
    )
    .label("second tenant settings")
    .related(first, "first tenant settings")
    .help("merge these settings into the first `tenant` item and remove this one")
}

/// A range that names no block at all (a range whose blocks are all wrong
/// already has errors enough).
pub fn empty_range(diags: &mut Diagnostics, name: &Spanned<String>, hint: &str) {
    diags.push(
        Diagnostic::warning(
            "empty-range",
            name.span,
            format!("range `{}` has no blocks", name.value),
        )
        .label("no numbers")
        .help(hint.to_string()),
    );
}

/// A test's `expect`, from its keys as both forms read them: exactly one
/// outcome (`persona`, or one of the flags set to true), and `range` only
/// with a persona.
pub fn expectation(
    diags: &mut Diagnostics,
    span: Span,
    persona: Option<Spanned<String>>,
    flags: &[(&str, bool)],
    range: Option<Spanned<String>>,
) -> Option<Expectation> {
    let mut outcomes: Vec<Expected> = persona.into_iter().map(Expected::Persona).collect();
    for (flag, set) in flags {
        if *set {
            outcomes.push(match *flag {
                "unmatched" => Expected::Unmatched,
                "out-of-scope" => Expected::OutOfScope,
                _ => Expected::Leaver,
            });
        }
    }
    if outcomes.len() != 1 {
        let (message, label) = if outcomes.is_empty() {
            ("`expect` names no outcome", "no outcome")
        } else {
            ("`expect` names more than one outcome", "one outcome only")
        };
        diags.push(
            Diagnostic::error("bad-expect", span, message)
                .label(label)
                .help("give one of `persona`, `unmatched`, `out-of-scope` or `leaver`"),
        );
        return None;
    }
    let outcome = outcomes.remove(0);
    if let (Some(r), false) = (&range, matches!(outcome, Expected::Persona(_))) {
        diags.push(
            Diagnostic::error("bad-expect", r.span, "`range` needs `persona`")
                .label("no persona to draw numbers")
                .help("remove `range`, or expect a `persona`"),
        );
        return None;
    }
    Some(Expectation {
        outcome,
        range,
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::FileId;

    #[test]
    fn only_formatting_gets_a_suggested_number() {
        let cases = [
            ("442071230000", Some("+442071230000")),
            ("+44 20 7123 0000", Some("+442071230000")),
            ("+44 (20) 7123-0000", Some("+442071230000")),
            ("tel:+442071230000", Some("+442071230000")),
            ("+44.20.7123.0000", Some("+442071230000")),
            ("+44207123000x", None), // a letter: which digit was meant?
            ("+44+2071230000", None),
            ("44+2071230000", None),
            ("+4420", None),         // too short however it is written
            ("+442071230000", None), // nothing to suggest
        ];
        for (text, want) in cases {
            let got = formatted_e164(text).map(|n| n.to_string());
            assert_eq!(got.as_deref(), want, "{text}");
        }
    }

    #[test]
    fn patterns_are_checked_alone_and_wrapped() {
        let span = Span::new(FileId(0), 0..1);
        for (pattern, ok) in [
            ("E[0-9]{6}", true),
            ("(?i)test.*", true),
            ("a)|(b", false),
            ("(unclosed", false),
            ("*sales", false),
        ] {
            let mut d = Diagnostics::default();
            let op = string_op(&mut d, "matches", pattern, span);
            assert_eq!(op.is_some(), ok, "{pattern}");
            assert_eq!(d.items.is_empty(), ok, "{pattern}");
        }
        assert!(regex_help("*sales").contains("`.*sales`"));
    }
}

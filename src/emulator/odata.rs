//! OData pieces of the Graph wire format the emulator speaks: error bodies,
//! `$filter` for the simple forms Graph supports by default, `$select`,
//! opaque skip tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The Graph error body.
pub fn error_body(code: &str, message: &str) -> Value {
    json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now_iso(),
                "request-id": uuid::Uuid::new_v4().to_string(),
                "client-request-id": uuid::Uuid::new_v4().to_string(),
            }
        }
    })
}

pub fn now_iso() -> String {
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn encode_skip(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("roster-emulator:{offset}"))
}

pub fn decode_skip(token: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD
        .decode(token.trim_matches('\'').trim_start_matches("X'"))
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("roster-emulator:")?
        .parse()
        .ok()
}

/// One comparison of a `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Eq(String, Value),
    In(String, Vec<Value>),
    StartsWith(String, String),
    /// `collection/any(c:c eq 'v')`
    AnyEq(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilterError(pub String);

/// Parse `a eq 'x' and b in ('y','z') and startsWith(c,'w')`.
pub fn parse_filter(s: &str) -> Result<Vec<Term>, FilterError> {
    let mut terms = Vec::new();
    for part in split_and(s) {
        terms.push(parse_term(part.trim())?);
    }
    Ok(terms)
}

fn split_and(s: &str) -> Vec<&str> {
    // Split on " and " outside quotes and brackets.
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            b' ' if !quoted && depth == 0 && s[i..].to_ascii_lowercase().starts_with(" and ") => {
                out.push(&s[start..i]);
                i += 5;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

fn literal(s: &str) -> Result<Value, FilterError> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Ok(Value::String(inner.replace("''", "'")));
    }
    match s {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        "null" => Ok(Value::Null),
        _ => Err(FilterError(format!("invalid literal `{s}`"))),
    }
}

fn parse_term(t: &str) -> Result<Term, FilterError> {
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("startswith(") && t.ends_with(')') {
        let inner = &t["startswith(".len()..t.len() - 1];
        let (prop, value) = inner
            .split_once(',')
            .ok_or_else(|| FilterError(format!("invalid startsWith `{t}`")))?;
        let Value::String(v) = literal(value)? else {
            return Err(FilterError("startsWith takes a string".into()));
        };
        return Ok(Term::StartsWith(prop.trim().to_string(), v));
    }
    if let Some(i) = lower.find("/any(") {
        let prop = t[..i].trim().to_string();
        let inner = t[i + 5..].trim_end_matches(')');
        let (_, cond) = inner
            .split_once(':')
            .ok_or_else(|| FilterError(format!("invalid any() `{t}`")))?;
        let (_, value) = cond
            .split_once(" eq ")
            .ok_or_else(|| FilterError(format!("only `eq` is supported inside any(): `{t}`")))?;
        let Value::String(v) = literal(value)? else {
            return Err(FilterError("any() compares strings".into()));
        };
        return Ok(Term::AnyEq(prop, v));
    }
    if let Some(i) = lower.find(" eq ") {
        return Ok(Term::Eq(t[..i].trim().to_string(), literal(&t[i + 4..])?));
    }
    if let Some(i) = lower.find(" in ") {
        let list = t[i + 4..].trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| FilterError(format!("invalid `in` list `{list}`")))?;
        let values = inner
            .split(',')
            .map(literal)
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Term::In(t[..i].trim().to_string(), values));
    }
    Err(FilterError(format!(
        "Unsupported or invalid query filter clause specified: `{t}`"
    )))
}

/// Look up `a/b` paths in an object, without regard to case.
fn get<'v>(obj: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = obj;
    for seg in path.split('/') {
        let map = cur.as_object()?;
        cur = map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(seg))
            .map(|(_, v)| v)?;
    }
    Some(cur)
}

fn value_eq(a: Option<&Value>, b: &Value) -> bool {
    match (a, b) {
        (None | Some(Value::Null), Value::Null) => true,
        (Some(Value::String(x)), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Some(x), y) => x == y,
        (None, _) => false,
    }
}

pub fn matches(obj: &Value, terms: &[Term]) -> bool {
    terms.iter().all(|t| match t {
        Term::Eq(p, v) => value_eq(get(obj, p), v),
        Term::In(p, vs) => vs.iter().any(|v| value_eq(get(obj, p), v)),
        Term::StartsWith(p, v) => get(obj, p)
            .and_then(Value::as_str)
            .is_some_and(|s| s.to_lowercase().starts_with(&v.to_lowercase())),
        Term::AnyEq(p, v) => get(obj, p).and_then(Value::as_array).is_some_and(|a| {
            a.iter()
                .any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case(v)))
        }),
    })
}

/// Keep only the `$select`ed properties (and `id`, as Graph always does).
pub fn select(obj: &Value, fields: Option<&[String]>) -> Value {
    let Some(fields) = fields else {
        return obj.clone();
    };
    let Some(map) = obj.as_object() else {
        return obj.clone();
    };
    let mut out = serde_json::Map::new();
    for f in fields {
        if let Some((k, v)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(f)) {
            out.insert(k.clone(), v.clone());
        } else {
            out.insert(f.clone(), Value::Null);
        }
    }
    if let Some(id) = map.get("id") {
        out.insert("id".into(), id.clone());
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let t = parse_filter(
            "assignmentStatus eq 'unassigned' and capabilities/any(c:c eq 'userAssignment')",
        )
        .unwrap();
        let obj = json!({"assignmentStatus": "unassigned", "capabilities": ["userAssignment"]});
        assert!(matches(&obj, &t));
        let t =
            parse_filter("startsWith(displayName,'ad') and city in ('London','Leeds')").unwrap();
        assert!(matches(
            &json!({"displayName": "Adele", "city": "london"}),
            &t
        ));
        assert!(!matches(
            &json!({"displayName": "Bob", "city": "london"}),
            &t
        ));
        assert!(parse_filter("city ne 'x'").is_err());
        let t =
            parse_filter("onPremisesExtensionAttributes/extensionAttribute1 eq 'EMEA'").unwrap();
        assert!(matches(
            &json!({"onPremisesExtensionAttributes": {"extensionAttribute1": "EMEA"}}),
            &t
        ));
    }

    #[test]
    fn skip_tokens_round_trip() {
        assert_eq!(decode_skip(&encode_skip(1234)), Some(1234));
        assert_eq!(decode_skip("garbage"), None);
    }
}

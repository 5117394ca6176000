//! Directory users: `/users` (filter, select, paging) and the Teams user
//! configurations (`/admin/teams/userConfigurations`). `/users/delta` is
//! [`super::delta`]'s; only the test endpoints ([`super::directory`]) change
//! directory users.
//!
//! The pages are written straight as JSON text ([`scan_page_text`]): a
//! configuration serialises from borrowed [`Configuration`] rows, and an
//! unfiltered user is spliced from its stored compact JSON, field by field
//! as `$select` asks, without building a `serde_json::Value` per entry.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::Serialize;

use super::api::{
    ApiOptions, Request, Response, filter, push_json_str, scan_page_text, selection, single, top,
};
use super::odata;
use super::state::TenantState;

pub(super) fn list_users(t: &TenantState, req: &Request<'_>) -> Response {
    let size = match top(req, 100, 999) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let terms = match filter(req) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let fields = match selection(req) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let users = &t.users_json;
    let default_licences = t.live.licensing.is_none();
    scan_page_text(req, users.len(), size, "users", |i, out| {
        if terms.is_empty() {
            return splice_user(
                users[i].text(),
                default_licences,
                fields.as_deref(),
                None,
                out,
            );
        }
        let u = super::licences::user_value(t, &users[i]);
        let shown = odata::matches(&u, &terms);
        if shown {
            let _ = serde_json::to_writer(&mut *out, &odata::select(&u, fields.as_deref()));
        }
        shown
    })
}

/// Write the user whose compact JSON is `text` as `/users` shows it (the
/// default licence set in place of `assignedLicenses` when the seed records
/// none; only the `$select`ed properties, `null` for those it lacks, and
/// `id`), exactly as [`odata::select`] over
/// [`super::licences::user_value`] would; then `extra` (a name and its
/// value as JSON text) set as `v[name] = value` sets it. Always shown (no
/// filter).
pub(super) fn splice_user(
    text: &str,
    default_licences: bool,
    fields: Option<&[String]>,
    extra: Option<(&str, &str)>,
    out: &mut Vec<u8>,
) -> bool {
    static DEFAULT: LazyLock<String> = LazyLock::new(|| {
        serde_json::to_string(super::licences::default_assigned()).unwrap_or_default()
    });
    let Some(mut props) = top_level(text) else {
        // Not an object (never stored so): as the slow path shows it.
        let v = serde_json::from_str::<serde_json::Value>(text).unwrap_or_default();
        let _ = serde_json::to_writer(&mut *out, &v);
        return true;
    };
    if default_licences {
        put(
            &mut props,
            Cow::Borrowed("assignedLicenses"),
            DEFAULT.as_str(),
        );
    }
    let mut shown: Vec<(Cow<'_, str>, &str)> = match fields {
        None => props,
        Some(fields) => {
            let mut shown = Vec::with_capacity(fields.len() + 1);
            for f in fields {
                match props.iter().find(|(k, _)| k.eq_ignore_ascii_case(f)) {
                    Some((k, v)) => put(&mut shown, k.clone(), v),
                    None => put(&mut shown, Cow::Owned(f.clone()), "null"),
                }
            }
            if let Some((_, id)) = props.iter().find(|(k, _)| k == "id") {
                put(&mut shown, Cow::Borrowed("id"), id);
            }
            shown
        }
    };
    if let Some((k, v)) = extra {
        put(&mut shown, Cow::Borrowed(k), v);
    }
    out.push(b'{');
    for (n, (k, v)) in shown.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        push_json_str(out, k);
        out.push(b':');
        out.extend_from_slice(v.as_bytes());
    }
    out.push(b'}');
    true
}

/// Set property `k` of `props` (in place when there, else last), as a
/// `serde_json::Map` with `preserve_order` inserts.
fn put<'t>(props: &mut Vec<(Cow<'t, str>, &'t str)>, k: Cow<'t, str>, v: &'t str) {
    match props.iter_mut().find(|(s, _)| *s == k) {
        Some(p) => p.1 = v,
        None => props.push((k, v)),
    }
}

/// The top-level properties of a JSON object as (name, value text) pairs,
/// in order; `None` when `text` is not an object. `text` is valid JSON
/// written by `serde_json`.
fn top_level(text: &str) -> Option<Vec<(Cow<'_, str>, &str)>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut props = Vec::with_capacity(24);
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(props);
    }
    loop {
        let key_end = string_end(b, i)?;
        let raw = &text[i..key_end];
        let key = if raw.contains('\\') {
            Cow::Owned(serde_json::from_str::<String>(raw).ok()?)
        } else {
            Cow::Borrowed(&raw[1..raw.len() - 1])
        };
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = value_end(b, start)?;
        props.push((key, text[start..end].trim_end()));
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some(props),
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// Past the closing quote of the string opening at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match b.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// Past the value starting at `i`: a string, an object or array (to its
/// matching close), or a scalar (to the next `,` `}` `]`).
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while !matches!(b.get(j), None | Some(b',' | b'}' | b']')) {
                j += 1;
            }
            Some(j)
        }
    }
}

pub(super) fn user_configurations(
    t: &TenantState,
    opts: &ApiOptions,
    req: &Request<'_>,
) -> Response {
    let size = match top(req, opts.config_page, 999) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut ids = PolicyIds::default();
    scan_page_text(
        req,
        t.live.users.len(),
        size,
        "admin/teams/userConfigurations",
        |i, out| {
            let _ = serde_json::to_writer(&mut *out, &configuration(t, i, &mut ids));
            true
        },
    )
}

pub(super) fn user_configuration(t: &TenantState, opts: &ApiOptions, id: &str) -> Response {
    match t.idx.user.get(id) {
        Some(&i) => single(opts, t.user_configuration(i)),
        None => Response::error(
            404,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist."),
        ),
    }
}

/// A user's Teams configuration as Graph serves it, borrowed from the
/// tenant (the field order is the wire order).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration<'a> {
    id: &'a str,
    user_principal_name: &'a str,
    tenant_id: &'a str,
    account_type: &'static str,
    is_enterprise_voice_enabled: bool,
    feature_types: [&'static str; 2],
    effective_policy_assignments: Vec<Effective<'a>>,
    telephone_numbers: Vec<Number<'a>>,
    created_date_time: &'static str,
    modified_date_time: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Effective<'a> {
    policy_type: &'a str,
    policy_assignment: Assignment<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Assignment<'a> {
    display_name: &'a str,
    assignment_type: &'static str,
    policy_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Number<'a> {
    telephone_number: String,
    assignment_category: &'a str,
}

/// Policy ids by (type, name) as users' assignments spell them, looked up
/// once per page rather than once per assignment (a page of 999 users
/// names a few dozen policies some 5,000 times).
#[derive(Default)]
pub struct PolicyIds<'t>(HashMap<(&'t str, &'t str), &'t str, foldhash::fast::RandomState>);

impl<'t> PolicyIds<'t> {
    fn get(&mut self, t: &'t TenantState, ty: &'t str, name: &'t str) -> &'t str {
        self.0
            .entry((ty, name))
            .or_insert_with(|| t.live.policy(ty, name).map_or("", |p| p.id.as_str()))
    }
}

/// User `i`'s configuration: direct assignments by type, then for each
/// type without one the group assignment that wins (lowest rank), then the
/// numbers the user holds. Costs what the user holds (direct groups, their
/// assignments, numbers), not what the tenant holds. `ids` remembers the
/// policy ids looked up (for one page: the tenant may change after it).
pub fn configuration<'t>(
    t: &'t TenantState,
    i: usize,
    ids: &mut PolicyIds<'t>,
) -> Configuration<'t> {
    let u = &t.live.users[i];
    let mut policy_id = |ty: &'t str, name: &'t str| ids.get(t, ty, name);
    // Group assignments of the groups the user is a direct member of, in
    // the tenant's order; for each type the lowest rank (1) wins, the first
    // listed among equals.
    let mut candidates: Vec<usize> = t.idx.direct_groups[i]
        .iter()
        .filter_map(|&g| t.idx.group_policies.get(&t.live.groups[g as usize].id))
        .flatten()
        .copied()
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let mut by_group: BTreeMap<&str, (u32, &str, &str)> = BTreeMap::new();
    for g in candidates.into_iter().map(|k| &t.live.group_policies[k]) {
        if !u.policies.contains_key(&g.policy_type) {
            let e = by_group
                .entry(&g.policy_type)
                .or_insert((g.rank, &g.policy_name, &g.group_id));
            if g.rank < e.0 {
                *e = (g.rank, &g.policy_name, &g.group_id);
            }
        }
    }
    // `policies` is a BTreeMap: its types come sorted.
    let mut effective: Vec<Effective<'_>> = u
        .policies
        .iter()
        .map(|(ty, name)| Effective {
            policy_type: ty,
            policy_assignment: Assignment {
                display_name: name,
                assignment_type: "direct",
                policy_id: policy_id(ty, name),
                group_id: None,
            },
        })
        .collect();
    effective.extend(
        by_group
            .into_iter()
            .map(|(ty, (_, name, group))| Effective {
                policy_type: ty,
                policy_assignment: Assignment {
                    display_name: name,
                    assignment_type: "group",
                    policy_id: policy_id(ty, name),
                    group_id: Some(group),
                },
            }),
    );
    let telephone_numbers = t
        .idx
        .numbers_of(&u.id)
        .filter_map(|n| t.live.numbers.get(&n))
        .filter(|n| n.target.as_deref() == Some(u.id.as_str()) && n.is_held())
        .map(|n| Number {
            telephone_number: n.number.to_string(),
            assignment_category: n.category.as_deref().unwrap_or("primary"),
        })
        .collect();
    Configuration {
        id: &u.id,
        user_principal_name: &u.upn,
        tenant_id: &t.live.tenant_id,
        account_type: "user",
        is_enterprise_voice_enabled: t.enterprise_voice.contains(&u.id),
        feature_types: ["Teams", "PhoneSystem"],
        effective_policy_assignments: effective,
        telephone_numbers,
        created_date_time: "2025-01-07T09:08:50Z",
        modified_date_time: "2025-01-07T09:08:50Z",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;

    const TENANT: &str = include_str!("../../examples/tenant-config/tenant.json");

    /// What `/users` showed before pages were spliced: the user as a
    /// `Value`, licences defaulted, then `$select`.
    fn slow(t: &TenantState, i: usize, fields: Option<&[String]>) -> Value {
        odata::select(
            &super::super::licences::user_value(t, &t.users_json[i]),
            fields,
        )
    }

    fn fast(t: &TenantState, i: usize, fields: Option<&[String]>) -> String {
        spliced(t, i, fields, None)
    }

    fn spliced(
        t: &TenantState,
        i: usize,
        fields: Option<&[String]>,
        extra: Option<(&str, &str)>,
    ) -> String {
        let mut out = Vec::new();
        assert!(splice_user(
            t.users_json[i].text(),
            t.live.licensing.is_none(),
            fields,
            extra,
            &mut out
        ));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn spliced_users_are_the_selected_values_byte_for_byte() {
        let mut t = TenantState::load(TENANT.into(), "tenant.json", None, Duration::ZERO).unwrap();
        let selects: Vec<Option<Vec<String>>> = vec![
            None,
            Some(vec!["id".into()]),
            Some(vec!["@odata.type".into(), "id".into()]),
            Some(vec!["displayName".into(), "CITY".into(), "nope".into()]),
            Some(vec![
                "city".into(),
                "city".into(),
                "assignedLicenses".into(),
            ]),
            Some(
                crate::provider::graph::read::USER_SELECT
                    .split(',')
                    .map(str::to_string)
                    .collect(),
            ),
        ];
        for licensed in [false, true] {
            if licensed {
                t.live.licensing = Some(super::super::licences::default_licensing());
            }
            for i in 0..t.users_json.len() {
                for f in &selects {
                    let want = serde_json::to_string(&slow(&t, i, f.as_deref())).unwrap();
                    assert_eq!(fast(&t, i, f.as_deref()), want, "user {i}, {f:?}");
                    // As a group member: `@odata.type` set on the value
                    // (in place when selected, else last).
                    let mut v = slow(&t, i, f.as_deref());
                    v["@odata.type"] = json!("#microsoft.graph.user");
                    let member = ("@odata.type", "\"#microsoft.graph.user\"");
                    assert_eq!(
                        spliced(&t, i, f.as_deref(), Some(member)),
                        serde_json::to_string(&v).unwrap(),
                        "member {i}, {f:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn top_level_splits_any_object_serde_writes() {
        let v = json!({"a\"b": [1, {"c": "}]"}], "d": null, "e": -1.5e3, "f": "x\\\"y", "g": {}});
        let text = v.to_string();
        let props = top_level(&text).unwrap();
        let keys: Vec<&str> = props.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["a\"b", "d", "e", "f", "g"]);
        for (k, raw) in props {
            let back: Value = serde_json::from_str(raw).unwrap();
            assert_eq!(back, v[k.as_ref()], "{k}");
        }
        assert!(top_level("[1]").is_none());
        assert_eq!(top_level("{}").unwrap().len(), 0);
    }

    #[test]
    fn configurations_serialise_in_the_wire_order() {
        let t = TenantState::load(TENANT.into(), "tenant.json", None, Duration::ZERO).unwrap();
        let v = t.user_configuration(0);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "id",
                "userPrincipalName",
                "tenantId",
                "accountType",
                "isEnterpriseVoiceEnabled",
                "featureTypes",
                "effectivePolicyAssignments",
                "telephoneNumbers",
                "createdDateTime",
                "modifiedDateTime"
            ]
        );
    }
}

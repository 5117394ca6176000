//! The tenant snapshot file (`tenant-snapshot.md`): Graph's own shapes in one
//! JSON document. Read into a [`LiveState`] with errors that name the JSON
//! path; written from one; and patched in place (keeping unknown fields) by
//! the file provider.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::live::{Group, GroupPolicyAssignment, LiveState, NumberAssignment, User};
use crate::numbers::{E164, NumberType};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    #[serde(rename = "format_version")]
    pub format_version: u32,
    #[serde(default)]
    pub tenant_id: String,
    pub users: Vec<SnapUser>,
    #[serde(default)]
    pub groups: Vec<SnapGroup>,
    #[serde(default)]
    pub policies: Vec<SnapPolicy>,
    #[serde(default)]
    pub policy_assignments: Vec<SnapAssignment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_policy_assignments: Vec<SnapGroupAssignment>,
    #[serde(default)]
    pub number_assignments: Vec<SnapNumber>,
}

macro_rules! snap_user {
    ($($field:ident : $name:literal),* $(,)?) => {
        /// A Graph `user` with the properties roster selects.
        #[derive(Debug, Clone, Default, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct SnapUser {
            pub id: String,
            pub user_principal_name: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub display_name: Option<String>,
            #[serde(default = "yes", deserialize_with = "null_is_enabled")]
            pub account_enabled: bool,
            $(
                #[serde(default, rename = $name, skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub on_premises_extension_attributes: Option<std::collections::BTreeMap<String, Option<String>>>,
        }

        impl SnapUser {
            /// Graph names of the plain rule attributes, in the order
            /// [`SnapUser::take_attributes`] gives their values.
            const ATTRIBUTE_NAMES: &'static [&'static str] = &[$($name),*];

            /// Move the plain rule attributes out, in [`Self::ATTRIBUTE_NAMES`] order.
            fn take_attributes(&mut self) -> Vec<Option<String>> {
                vec![$(self.$field.take()),*]
            }

            fn set_attribute(&mut self, name: &str, value: Option<String>) {
                match name {
                    $($name => self.$field = value,)*
                    _ => {}
                }
            }
        }
    };
}

snap_user! {
    mail: "mail",
    given_name: "givenName",
    surname: "surname",
    job_title: "jobTitle",
    department: "department",
    company_name: "companyName",
    employee_type: "employeeType",
    employee_id: "employeeId",
    office_location: "officeLocation",
    city: "city",
    state: "state",
    country: "country",
    postal_code: "postalCode",
    usage_location: "usageLocation",
    preferred_language: "preferredLanguage",
}

fn yes() -> bool {
    true
}

/// Graph returns `null` for a selected property that is not set; an
/// account is enabled unless it says otherwise.
fn null_is_enabled<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapGroup {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapPolicy {
    pub policy_type: String,
    pub name: String,
    #[serde(default)]
    pub policy_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapAssignment {
    pub user_id: String,
    pub policy_type: String,
    pub policy_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapGroupAssignment {
    pub group_id: String,
    pub policy_type: String,
    pub policy_name: String,
    #[serde(default)]
    pub rank: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapNumber {
    #[serde(default)]
    pub id: String,
    pub telephone_number: E164,
    #[serde(default)]
    pub number_type: Option<String>,
    #[serde(default)]
    pub assignment_target_id: Option<String>,
    #[serde(default)]
    pub assignment_category: Option<String>,
    #[serde(default = "unassigned")]
    pub assignment_status: String,
    #[serde(default)]
    pub activation_state: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub iso_country_code: Option<String>,
}

fn unassigned() -> String {
    "unassigned".into()
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(
        "tenant snapshot `{file}` cannot be read: {source}\nhint: check the path given with `--tenant` or the `provider \"file\" path=…` of the tenant settings"
    )]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "tenant snapshot `{file}` is malformed at `{json_path}` (line {line}, column {column}): {message}"
    )]
    Json {
        file: String,
        json_path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("tenant snapshot `{file}` is inconsistent at `{json_path}`: {message}\nhint: {hint}")]
    Invalid {
        file: String,
        json_path: String,
        message: String,
        hint: String,
    },
}

/// Parse snapshot JSON (`file` names it in messages).
pub fn parse(file: &str, text: &str) -> Result<Snapshot, SnapshotError> {
    // The fast path; tracking the JSON path costs as much as parsing, so it
    // runs only to explain a file that failed.
    let snap: Snapshot = match serde_json::from_str(text) {
        Ok(s) => s,
        Err(_) => return Err(parse_error(file, text)),
    };
    if snap.format_version != FORMAT_VERSION {
        return Err(invalid(
            file,
            "$.format_version",
            format!("format version {} is not supported", snap.format_version),
            format!("this roster reads format_version {FORMAT_VERSION}"),
        ));
    }
    Ok(snap)
}

/// The error of a snapshot that failed to parse, with its JSON path.
fn parse_error(file: &str, text: &str) -> SnapshotError {
    let de = &mut serde_json::Deserializer::from_str(text);
    let result: Result<Snapshot, _> = serde_path_to_error::deserialize(de);
    let e = match result {
        Ok(_) => {
            return invalid(
                file,
                "$",
                "the file could not be read as a tenant snapshot".into(),
                "check it is a tenant snapshot (format_version 1)",
            );
        }
        Err(e) => e,
    };
    let path = e.path().to_string();
    let inner = e.into_inner();
    SnapshotError::Json {
        file: file.to_string(),
        json_path: if path.is_empty() || path == "." {
            "$".into()
        } else {
            format!("$.{path}")
        },
        line: inner.line(),
        column: inner.column(),
        message: strip_position(&inner.to_string()),
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn invalid(file: &str, path: &str, message: String, hint: impl Into<String>) -> SnapshotError {
    SnapshotError::Invalid {
        file: file.to_string(),
        json_path: path.to_string(),
        message,
        hint: hint.into(),
    }
}

/// Check a snapshot's consistency and turn it into a [`LiveState`].
pub fn to_live(file: &str, snap: &Snapshot) -> Result<LiveState, SnapshotError> {
    into_live(file, snap.clone())
}

/// [`to_live`], moving the snapshot's strings instead of copying them (the
/// file provider and the Graph provider read 100,000s of users this way).
pub fn into_live(file: &str, snap: Snapshot) -> Result<LiveState, SnapshotError> {
    let Snapshot {
        tenant_id,
        users: snap_users,
        groups,
        policies,
        policy_assignments,
        group_policy_assignments,
        number_assignments,
        ..
    } = snap;
    let n = snap_users.len();
    let mut upns: HashMap<String, usize> = HashMap::with_capacity(n);
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, u) in snap_users.iter().enumerate() {
        if u.id.trim().is_empty() {
            return Err(invalid(
                file,
                &format!("$.users[{i}].id"),
                "a user has an empty `id`".into(),
                "every user needs its Entra object id",
            ));
        }
        if index.insert(u.id.as_str(), i).is_some() {
            return Err(invalid(
                file,
                &format!("$.users[{i}].id"),
                format!("duplicate user id `{}`", u.id),
                "user ids are unique: remove the repeated user",
            ));
        }
        if let Some(first) = upns.insert(u.user_principal_name.trim().to_lowercase(), i) {
            return Err(invalid(
                file,
                &format!("$.users[{i}].userPrincipalName"),
                format!(
                    "duplicate userPrincipalName `{}` (also $.users[{first}])",
                    u.user_principal_name
                ),
                "user principal names are unique without regard to case",
            ));
        }
    }
    drop(upns);

    // Direct assignments per user, checked against the users. A tenant
    // spells each type in few ways: look each spelling up once.
    let mut assigned: Vec<Vec<(String, String)>> = vec![Vec::new(); n];
    let mut types: HashMap<String, String> = HashMap::new();
    for (i, a) in policy_assignments.into_iter().enumerate() {
        let Some(&ui) = index.get(a.user_id.as_str()) else {
            return Err(invalid(
                file,
                &format!("$.policyAssignments[{i}].userId"),
                format!("assignment to user `{}`, who does not exist", a.user_id),
                "remove the assignment or add the user to `users`",
            ));
        };
        let ty = match types.get(&a.policy_type) {
            Some(t) => t.clone(),
            None => {
                let t = canonical_type(&a.policy_type);
                types.insert(a.policy_type.clone(), t.clone());
                t
            }
        };
        if assigned[ui].iter().any(|(t, _)| *t == ty) {
            return Err(invalid(
                file,
                &format!("$.policyAssignments[{i}]"),
                format!("user `{}` has two direct assignments of `{ty}`", a.user_id),
                "a user has at most one direct assignment per policy type",
            ));
        }
        assigned[ui].push((ty, a.policy_name));
    }

    let mut numbers = std::collections::BTreeMap::new();
    for (i, n) in number_assignments.into_iter().enumerate() {
        let number_type = match &n.number_type {
            Some(t) => Some(NumberType::from_graph(t).ok_or_else(|| {
                invalid(
                    file,
                    &format!("$.numberAssignments[{i}].numberType"),
                    format!("unknown number type `{t}`"),
                    "use `directRouting`, `callingPlan` or `operatorConnect`",
                )
            })?),
            None => None,
        };
        let entry = NumberAssignment {
            number: n.telephone_number,
            number_type,
            target: n.assignment_target_id.filter(|t| !t.is_empty()),
            category: n.assignment_category,
            status: n.assignment_status,
            capabilities: n.capabilities,
            location_id: n.location_id,
        };
        if entry.status.eq_ignore_ascii_case("userAssigned") {
            match &entry.target {
                Some(t) if index.contains_key(t.as_str()) => {}
                Some(t) => {
                    return Err(invalid(
                        file,
                        &format!("$.numberAssignments[{i}].assignmentTargetId"),
                        format!(
                            "number `{}` is assigned to user `{t}`, who does not exist",
                            entry.number
                        ),
                        "fix the target, or mark the number `unassigned`",
                    ));
                }
                None => {
                    return Err(invalid(
                        file,
                        &format!("$.numberAssignments[{i}]"),
                        format!(
                            "number `{}` is `userAssigned` with no `assignmentTargetId`",
                            entry.number
                        ),
                        "give the holder's object id, or mark the number `unassigned`",
                    ));
                }
            }
        }
        if let Some(prev) = numbers.get(&entry.number) {
            let prev: &NumberAssignment = prev;
            let message = if prev.is_held() && entry.is_held() {
                format!("number `{}` is held by two targets", entry.number)
            } else {
                format!("number `{}` is listed twice", entry.number)
            };
            return Err(invalid(
                file,
                &format!("$.numberAssignments[{i}].telephoneNumber"),
                message,
                "a number appears once in the inventory and belongs to one user at most",
            ));
        }
        numbers.insert(entry.number, entry);
    }
    drop(index);

    let users = users_from(snap_users, assigned);
    let mut live = LiveState {
        tenant_id,
        users,
        numbers,
        ..LiveState::default()
    };
    let mut group_ids = HashSet::new();
    for (i, g) in groups.into_iter().enumerate() {
        if !group_ids.insert(g.id.clone()) {
            return Err(invalid(
                file,
                &format!("$.groups[{i}].id"),
                format!("duplicate group id `{}`", g.id),
                "group ids are unique",
            ));
        }
        live.groups.push(Group {
            id: g.id,
            display_name: g.display_name,
            members: g.members,
        });
    }
    for p in &policies {
        let ty = canonical_type(&p.policy_type);
        live.add_policy(&ty, &p.name, &p.policy_id);
    }
    for g in group_policy_assignments {
        live.group_policies.push(GroupPolicyAssignment {
            group_id: g.group_id,
            policy_type: canonical_type(&g.policy_type),
            policy_name: g.policy_name,
            rank: g.rank,
        });
    }
    live.finish();
    Ok(live)
}

/// A snapshot user with its direct assignments (type, policy name).
type Assigned = (SnapUser, Vec<(String, String)>);

/// Turn snapshot users (and their direct assignments) into live users,
/// moving their strings; the users are split over the machine's cores.
fn users_from(snap_users: Vec<SnapUser>, assigned: Vec<Vec<(String, String)>>) -> Vec<User> {
    let ids: Vec<Option<usize>> = SnapUser::ATTRIBUTE_NAMES
        .iter()
        .map(|a| crate::catalog::attribute(a))
        .collect();
    let convert = |(mut u, policies): Assigned| {
        let values = u.take_attributes();
        let ext = u.on_premises_extension_attributes.take();
        let mut user = User::new(u.id, u.user_principal_name);
        user.display_name = u.display_name;
        user.account_enabled = u.account_enabled;
        for (id, value) in ids.iter().zip(values) {
            if let (Some(id), Some(v)) = (id, value) {
                user.attrs[*id] = Some(v.into_boxed_str());
            }
        }
        for (k, v) in ext.into_iter().flatten() {
            user.set_attr(&k, v);
        }
        user.policies = policies.into_iter().collect();
        user
    };
    let n = snap_users.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .clamp(1, 8)
        .min(n / 4096 + 1);
    if threads <= 1 {
        return snap_users.into_iter().zip(assigned).map(convert).collect();
    }
    let chunk = n.div_ceil(threads);
    let mut pairs = snap_users.into_iter().zip(assigned);
    let parts: Vec<Vec<Assigned>> = (0..threads)
        .map(|_| pairs.by_ref().take(chunk).collect())
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(|| part.into_iter().map(convert).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("converting users does not panic"))
            .collect()
    })
}

/// The catalog spelling of a policy type; unknown types are kept as written.
fn canonical_type(t: &str) -> String {
    crate::catalog::policy_type(t)
        .map(str::to_string)
        .unwrap_or_else(|| t.to_string())
}

/// Read and check a snapshot file.
pub fn read(path: &std::path::Path) -> Result<(Snapshot, LiveState), SnapshotError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
        file: file.clone(),
        source,
    })?;
    let snap = parse(&file, &text)?;
    let live = to_live(&file, &snap)?;
    Ok((snap, live))
}

/// A snapshot of a live state (what `roster snapshot` and the emulator write).
pub fn from_live(live: &LiveState) -> Snapshot {
    let mut snap = Snapshot {
        format_version: FORMAT_VERSION,
        tenant_id: live.tenant_id.clone(),
        ..Snapshot::default()
    };
    for u in &live.users {
        let mut su = SnapUser {
            id: u.id.clone(),
            user_principal_name: u.upn.clone(),
            display_name: u.display_name.clone(),
            account_enabled: u.account_enabled,
            ..SnapUser::default()
        };
        let mut ext = std::collections::BTreeMap::new();
        for (id, value) in u.attrs.iter().enumerate() {
            let name = User::attr_name(id);
            if name.starts_with("extensionAttribute") {
                if value.is_some() {
                    ext.insert(name.to_string(), value.as_deref().map(str::to_string));
                }
            } else {
                su.set_attribute(name, value.as_deref().map(str::to_string));
            }
        }
        if !ext.is_empty() {
            su.on_premises_extension_attributes = Some(ext);
        }
        snap.users.push(su);
        for (ty, name) in &u.policies {
            snap.policy_assignments.push(SnapAssignment {
                user_id: u.id.clone(),
                policy_type: ty.clone(),
                policy_name: name.clone(),
            });
        }
    }
    snap.groups = live
        .groups
        .iter()
        .map(|g| SnapGroup {
            id: g.id.clone(),
            display_name: g.display_name.clone(),
            members: g.members.clone(),
        })
        .collect();
    for by_name in live.policies.values() {
        for p in by_name.values() {
            snap.policies.push(SnapPolicy {
                policy_type: p.policy_type.clone(),
                name: p.name.clone(),
                policy_id: p.id.clone(),
            });
        }
    }
    snap.group_policy_assignments = live
        .group_policies
        .iter()
        .map(|g| SnapGroupAssignment {
            group_id: g.group_id.clone(),
            policy_type: g.policy_type.clone(),
            policy_name: g.policy_name.clone(),
            rank: g.rank,
        })
        .collect();
    snap.number_assignments = live.numbers.values().map(snap_number).collect();
    snap
}

fn snap_number(n: &NumberAssignment) -> SnapNumber {
    SnapNumber {
        id: number_id(n.number),
        telephone_number: n.number,
        number_type: n.number_type.map(|t| t.graph_name().to_string()),
        assignment_target_id: n.target.clone(),
        assignment_category: n.category.clone(),
        assignment_status: n.status.clone(),
        activation_state: Some("activated".into()),
        capabilities: n.capabilities.clone(),
        location_id: n.location_id.clone(),
        iso_country_code: None,
    }
}

/// A stable opaque id for a number entry that has none.
pub fn number_id(n: E164) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(n.to_string().as_bytes());
    h[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// Rewrite the snapshot JSON `original` so that its policy assignments and
/// numbers are those of `live`, keeping every other field (and unknown
/// fields of the entries that stay) as they were.
pub fn patch(original: &str, live: &LiveState) -> Result<String, serde_json::Error> {
    use serde_json::{Value, json};
    let mut doc: Value = serde_json::from_str(original)?;
    let Some(obj) = doc.as_object_mut() else {
        return Err(serde::de::Error::custom("snapshot is not a JSON object"));
    };

    // Policy assignments: keep entries still true, update renamed ones,
    // drop removed ones, append new ones (in user order).
    let mut wanted: HashMap<(String, String), String> = HashMap::new();
    for u in &live.users {
        for (ty, name) in &u.policies {
            wanted.insert((u.id.clone(), ty.to_lowercase()), name.clone());
        }
    }
    let mut kept = Vec::new();
    if let Some(Value::Array(items)) = take(obj, "policyAssignments") {
        for mut item in items {
            let key = (
                item["userId"].as_str().unwrap_or_default().to_string(),
                item["policyType"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
            );
            if let Some(name) = wanted.remove(&key) {
                item["policyName"] = Value::String(name);
                kept.push(item);
            }
        }
    }
    for u in &live.users {
        for ty in u.policies.keys() {
            if let Some(name) = wanted.remove(&(u.id.clone(), ty.to_lowercase())) {
                kept.push(json!({ "userId": u.id, "policyType": ty, "policyName": name }));
            }
        }
    }
    put(obj, "policyAssignments", Value::Array(kept));

    // Numbers: update entries in place, append numbers new to the inventory.
    let mut numbers = Vec::new();
    let mut seen = HashSet::new();
    if let Some(Value::Array(items)) = take(obj, "numberAssignments") {
        for mut item in items {
            let n = item["telephoneNumber"]
                .as_str()
                .and_then(|s| E164::parse_lenient(s).ok());
            let Some(n) = n else {
                numbers.push(item);
                continue;
            };
            seen.insert(n);
            if let Some(state) = live.numbers.get(&n) {
                set_or_null(&mut item, "assignmentTargetId", state.target.as_deref());
                set_or_null(&mut item, "assignmentCategory", state.category.as_deref());
                item["assignmentStatus"] = Value::String(state.status.clone());
                set_or_null(&mut item, "locationId", state.location_id.as_deref());
                if let Some(t) = state.number_type {
                    item["numberType"] = Value::String(t.graph_name().into());
                }
                numbers.push(item);
            }
        }
    }
    for (n, state) in &live.numbers {
        if !seen.contains(n) {
            numbers.push(serde_json::to_value(snap_number(state))?);
        }
    }
    put(obj, "numberAssignments", Value::Array(numbers));
    let mut out = serde_json::to_string_pretty(&doc)?;
    out.push('\n');
    Ok(out)
}

/// Take a field's value, leaving `null` in its place so the field keeps its
/// position (`Map::remove` would move the last field into it).
fn take(
    obj: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<serde_json::Value> {
    obj.get_mut(key).map(serde_json::Value::take)
}

/// Set a field in place, or append it when the file had none.
fn put(obj: &mut serde_json::Map<String, serde_json::Value>, key: &str, v: serde_json::Value) {
    match obj.get_mut(key) {
        Some(slot) => *slot = v,
        None => {
            obj.insert(key.to_string(), v);
        }
    }
}

fn set_or_null(item: &mut serde_json::Value, key: &str, v: Option<&str>) {
    item[key] = match v {
        Some(s) => serde_json::Value::String(s.to_string()),
        None => serde_json::Value::Null,
    };
}

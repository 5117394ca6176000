//! Test endpoints that change the directory while the emulator runs, as
//! an identity system (HR feed, Entra admin) would: create users, change
//! their attributes or group membership, disable and delete them
//! (`docs/emulator.md`). Every change is recorded for `/users/delta`
//! ([`super::delta::Tracker`]). They live under `/_emulator/`, never under
//! a Graph version root, so no Graph client can reach them by mistake.
//! After a change the lookup tables are rebuilt (a cost of the test
//! endpoint, never of a Graph read). It must not serve Graph routes.

use serde_json::{Map, Value, json};

use super::api::Response;
use super::index::Index;
use super::state::{TenantState, UserJson};
use crate::live::User;

/// `/_emulator/users…` and `/_emulator/delta/expire`.
pub(super) fn handle(t: &mut TenantState, method: &str, path: &str, body: &[u8]) -> Response {
    let doc: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Response::error(400, "BadRequest", &format!("invalid JSON body: {e}"));
            }
        }
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let result = match (method, &segs[1..]) {
        ("POST", ["delta", "expire"]) => {
            t.delta.expire();
            return Response::empty(204);
        }
        ("POST", ["users"]) => create(t, doc),
        ("PATCH", ["users"]) => change_many(t, doc),
        ("PATCH", ["users", id]) => change(t, id, doc),
        ("POST", ["users", id, "disable"]) => change(t, id, json!({ "accountEnabled": false })),
        ("DELETE", ["users", id]) => delete(t, id, &doc),
        _ => {
            return Response::error(
                404,
                "Request_ResourceNotFound",
                &format!("no test endpoint `{method} {path}`"),
            );
        }
    };
    // Also after a failure part-way: earlier users of the call are in.
    reindex(t);
    match result {
        Ok(ids) => {
            if let Err(e) = t.persist() {
                return Response::error(500, "generalException", &e);
            }
            Response::json(200, json!({ "changed": ids }))
        }
        Err(r) => r,
    }
}

fn bad(message: String) -> Response {
    Response::error(400, "Request_BadRequest", &message)
}

/// `POST /_emulator/users`: one user object, or `{"users": [...]}`. Each
/// needs `userPrincipalName`; `id` is made up when missing; `memberOf`
/// lists the ids of groups it joins directly.
fn create(t: &mut TenantState, doc: Value) -> Result<Vec<String>, Response> {
    let list = match doc.get("users") {
        Some(Value::Array(a)) => a.clone(),
        _ => vec![doc],
    };
    let mut ids = Vec::new();
    for mut u in list {
        let Some(obj) = u.as_object_mut() else {
            return Err(bad("a user must be a JSON object".into()));
        };
        let Some(upn) = obj.get("userPrincipalName").and_then(Value::as_str) else {
            return Err(bad("a user needs `userPrincipalName`".into()));
        };
        let upn = upn.to_string();
        let id = match obj.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        if t.idx.find_user(&id).is_some() || t.idx.find_user(&upn).is_some() {
            return Err(Response::error(
                409,
                "Request_BadRequest",
                &format!("a user `{id}` or `{upn}` exists already"),
            ));
        }
        obj.insert("id".into(), Value::String(id.clone()));
        let groups = take_groups(t, obj)?;
        let mut user = User::new(id.clone(), upn);
        apply_fields(&mut user, obj);
        t.users_json.push(UserJson::from_value(&u));
        t.live.users.push(user);
        join_groups(t, &id, &groups);
        // Visible to later users of this call (duplicates), by id.
        t.idx.user.insert(id.clone(), usize::MAX);
        t.delta.touch(&id, None);
        ids.push(id);
    }
    Ok(ids)
}

/// `PATCH /_emulator/users/{id}`: the properties given replace the user's
/// (`null` clears one); `memberOf`, when given, replaces its direct groups.
fn change(t: &mut TenantState, key: &str, doc: Value) -> Result<Vec<String>, Response> {
    let Some(i) = t.idx.find_user(key) else {
        return Err(not_found(key));
    };
    let Value::Object(mut patch) = doc else {
        return Err(bad(
            "the body must be a JSON object of user properties".into()
        ));
    };
    patch.remove("id");
    let groups = match patch.contains_key("memberOf") {
        true => Some(take_groups(t, &mut patch)?),
        false => None,
    };
    let id = t.live.users[i].id.clone();
    let j = t.idx.json_of[i] as usize;
    let mut merged = t.users_json[j].value();
    if let Some(obj) = merged.as_object_mut() {
        for (k, v) in &patch {
            if k == "onPremisesExtensionAttributes"
                && let (Some(Value::Object(old)), Value::Object(new)) = (obj.get_mut(k), v)
            {
                old.extend(new.clone());
                continue;
            }
            obj.insert(k.clone(), v.clone());
        }
    }
    t.users_json[j] = UserJson::from_value(&merged);
    apply_fields(&mut t.live.users[i], &patch);
    if let Some(groups) = groups {
        leave_groups(t, &id);
        join_groups(t, &id, &groups);
    }
    t.delta.touch(&id, None);
    Ok(vec![id])
}

/// `PATCH /_emulator/users` with `{"users": [{"id": …, properties…}]}`:
/// [`change`] for each.
fn change_many(t: &mut TenantState, doc: Value) -> Result<Vec<String>, Response> {
    let Some(Value::Array(list)) = doc.get("users") else {
        return Err(bad(
            "the body must be `{\"users\": [{\"id\": …, …}]}`".into()
        ));
    };
    let mut ids = Vec::new();
    for u in list {
        let Some(id) = u.get("id").and_then(Value::as_str) else {
            return Err(bad("every user to change needs its `id`".into()));
        };
        ids.extend(change(t, id, u.clone())?);
    }
    Ok(ids)
}

/// `DELETE /_emulator/users/{id}` (`{"soft": true}`: restorable, the
/// tombstone says `changed`): the user, its memberships and its Teams
/// state go; numbers it held return to the inventory.
fn delete(t: &mut TenantState, key: &str, doc: &Value) -> Result<Vec<String>, Response> {
    let Some(i) = t.idx.find_user(key) else {
        return Err(not_found(key));
    };
    let id = t.live.users[i].id.clone();
    let j = t.idx.json_of[i] as usize;
    t.live.users.remove(i);
    t.users_json.remove(j);
    leave_groups(t, &id);
    let held: Vec<_> = t.idx.numbers_of(&id).collect();
    for n in held {
        t.live.unassign_number(n);
        t.idx.move_number(n, Some(&id), None);
    }
    t.enterprise_voice.remove(&id);
    let soft = doc.get("soft").and_then(Value::as_bool).unwrap_or(false);
    t.delta
        .touch(&id, Some(if soft { "changed" } else { "deleted" }));
    Ok(vec![id])
}

fn not_found(key: &str) -> Response {
    Response::error(
        404,
        "Request_ResourceNotFound",
        &format!("Resource '{key}' does not exist."),
    )
}

/// `memberOf` taken out of a user's properties, every group checked to exist.
fn take_groups(t: &TenantState, obj: &mut Map<String, Value>) -> Result<Vec<String>, Response> {
    let groups: Vec<String> = match obj.remove("memberOf") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|g| {
                g.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad("`memberOf` lists group ids (strings)".into()))
            })
            .collect(),
        Some(_) => Err(bad("`memberOf` must be a list of group ids".into())),
    }?;
    match groups
        .iter()
        .find(|g| !t.idx.group.contains_key(g.as_str()))
    {
        Some(g) => Err(bad(format!("no group `{g}` (give group ids)"))),
        None => Ok(groups),
    }
}

fn join_groups(t: &mut TenantState, id: &str, groups: &[String]) {
    for g in groups {
        if let Some(&gi) = t.idx.group.get(g) {
            t.live.groups[gi as usize].members.push(id.to_string());
        }
    }
}

fn leave_groups(t: &mut TenantState, id: &str) {
    for g in &mut t.live.groups {
        g.members.retain(|m| m != id);
    }
}

/// The user's fields from Graph user properties.
fn apply_fields(u: &mut User, obj: &Map<String, Value>) {
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("accountEnabled", v) => u.account_enabled = v.as_bool().unwrap_or(true),
            ("userPrincipalName", Value::String(s)) => u.upn = s.clone(),
            ("displayName", v) => {
                u.display_name = v.as_str().map(str::to_string);
                u.set_attr(k, u.display_name.clone());
            }
            ("onPremisesExtensionAttributes", Value::Object(ext)) => {
                for (name, value) in ext {
                    u.set_attr(name, value.as_str().map(str::to_string));
                }
            }
            (_, Value::String(s)) => u.set_attr(k, Some(s.clone())),
            (_, Value::Null) => u.set_attr(k, None),
            _ => {}
        }
    }
}

/// Sort the users, resolve group membership again and rebuild the lookup
/// tables; snapshots are written from the live state from now on.
fn reindex(t: &mut TenantState) {
    t.live.finish();
    t.idx = Index::build(&t.live, &t.users_json);
    t.users_changed = true;
}

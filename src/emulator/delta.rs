//! `GET /users/delta`: directory change tracking. A [`Tracker`] gives every
//! change of a user (created, changed, disabled, deleted through the test
//! endpoints of [`super::directory`]) a sequence number and keeps only the
//! latest per user, so a delta round costs the changes since its token,
//! never the tenant. Delta tokens carry the tracker's epoch: expiring the
//! tokens (for tests) starts a new epoch, and a token of another epoch, or
//! one that does not parse, is answered `410 Gone` with a `Location` to
//! start over, as Graph answers a sync reset. It must not change users.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::api::{Request, Response, q, selection};
use super::odata;
use super::state::TenantState;

/// Entries a delta page holds (Graph's page size varies; this is fixed).
pub const DELTA_PAGE: usize = 200;

/// Change sequence numbers of the directory's users.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The last sequence number given out.
    seq: u64,
    /// Tokens of an older epoch have expired.
    epoch: u64,
    /// Sequence number -> user id: each user's latest change only.
    log: BTreeMap<u64, String>,
    /// User id -> its sequence number in `log`.
    last: HashMap<String, u64>,
    /// Deleted users' ids -> the `@removed` reason (`changed`: soft-deleted,
    /// `deleted`: permanently).
    removed: HashMap<String, &'static str>,
}

impl Tracker {
    /// A tracker whose epoch is the emulator's start (seconds since 1970),
    /// so tokens of an earlier run of the emulator are expired (`410`),
    /// as Graph answers a sync state it no longer holds.
    pub fn new() -> Self {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Tracker {
            epoch,
            ..Tracker::default()
        }
    }

    /// User `id` changed now (created, changed, or removed with a reason).
    pub fn touch(&mut self, id: &str, removed: Option<&'static str>) {
        self.seq += 1;
        if let Some(old) = self.last.insert(id.to_string(), self.seq) {
            self.log.remove(&old);
        }
        self.log.insert(self.seq, id.to_string());
        match removed {
            Some(reason) => {
                self.removed.insert(id.to_string(), reason);
            }
            None => {
                self.removed.remove(id);
            }
        }
    }

    /// Every delta token given out so far expires.
    pub fn expire(&mut self) {
        self.epoch += 1;
    }

    fn token(&self, seq: u64) -> String {
        encode(&format!("d.{}.{seq}", self.epoch))
    }
}

fn encode(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// A token's fields after its kind letter, when it is of this epoch.
fn decode(token: &str, kind: &str, epoch: u64) -> Option<Vec<u64>> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = text.split('.');
    if parts.next()? != kind {
        return None;
    }
    let nums: Vec<u64> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    (nums.first() == Some(&epoch)).then(|| nums[1..].to_vec())
}

/// The request's URL with its query options but the paging ones, plus `set`.
fn link(req: &Request<'_>, set: (&str, String)) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in req.query.iter().filter(|(k, _)| {
        !k.eq_ignore_ascii_case("$skiptoken") && !k.eq_ignore_ascii_case("$deltatoken")
    }) {
        ser.append_pair(k, v);
    }
    ser.append_pair(set.0, &set.1);
    format!("{}/{}/users/delta?{}", req.base, req.version, ser.finish())
}

fn gone(req: &Request<'_>) -> Response {
    let mut r = Response::error(
        410,
        "syncStateNotFound",
        "The delta token has expired or is not valid; start a full synchronization again.",
    );
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    if let Some(s) = q(req, "$select") {
        ser.append_pair("$select", s);
    }
    let query = ser.finish();
    let sep = if query.is_empty() { "" } else { "?" };
    r.headers.push((
        "Location".into(),
        format!("{}/{}/users/delta{sep}{query}", req.base, req.version),
    ));
    r
}

/// `GET /users/delta`: the initial sync (every user, in pages, then a
/// `@odata.deltaLink`), `$deltatoken=latest` (no users, a link from now),
/// or the changes since a delta token, users as `$select` asks and deleted
/// users as `@removed` tombstones.
pub(super) fn users_delta(t: &TenantState, req: &Request<'_>) -> Response {
    let fields = match selection(req) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let tr = &t.delta;
    let show = |id: &str| -> Option<Value> {
        match t.idx.user.get(id) {
            Some(&i) => {
                let j = *t.idx.json_of.get(i)? as usize;
                Some(odata::select(
                    &super::licences::user_value(t, t.users_json.get(j)?),
                    fields.as_deref(),
                ))
            }
            None => tr
                .removed
                .get(id)
                .map(|reason| json!({ "id": id, "@removed": { "reason": reason } })),
        }
    };
    // (what to list, the position to go on from, the sequence number the
    // final delta link carries)
    enum From {
        Initial(u64),
        Changes(u64),
    }
    let (from, until) = match (q(req, "$deltatoken"), q(req, "$skiptoken")) {
        (Some(d), _) if d.eq_ignore_ascii_case("latest") => {
            return page(req, Vec::new(), None, Some(tr.token(tr.seq)));
        }
        (Some(d), _) => match decode(d, "d", tr.epoch) {
            Some(v) if v.len() == 1 => (From::Changes(v[0]), tr.seq),
            _ => return gone(req),
        },
        (None, Some(s)) => match (decode(s, "i", tr.epoch), decode(s, "c", tr.epoch)) {
            (Some(v), _) if v.len() == 2 => (From::Initial(v[1]), v[0]),
            (_, Some(v)) if v.len() == 2 => (From::Changes(v[1]), v[0]),
            _ => return gone(req),
        },
        (None, None) => (From::Initial(0), tr.seq),
    };
    let mut value = Vec::new();
    let next = match from {
        From::Initial(pos) => {
            let pos = pos as usize;
            let end = (pos + DELTA_PAGE).min(t.users_json.len());
            for u in t.users_json.get(pos..end).unwrap_or_default() {
                value.push(odata::select(
                    &super::licences::user_value(t, u),
                    fields.as_deref(),
                ));
            }
            (end < t.users_json.len()).then(|| encode(&format!("i.{}.{until}.{end}", tr.epoch)))
        }
        From::Changes(after) => {
            let mut last = after;
            let mut more = false;
            let range = (after < until).then(|| tr.log.range(after + 1..=until));
            for (&seq, id) in range.into_iter().flatten() {
                if value.len() == DELTA_PAGE {
                    more = true;
                    break;
                }
                last = seq;
                value.extend(show(id));
            }
            more.then(|| encode(&format!("c.{}.{until}.{last}", tr.epoch)))
        }
    };
    match next {
        Some(skip) => page(req, value, Some(skip), None),
        None => page(req, value, None, Some(tr.token(until))),
    }
}

fn page(
    req: &Request<'_>,
    value: Vec<Value>,
    skip: Option<String>,
    delta: Option<String>,
) -> Response {
    let mut body = json!({
        "@odata.context": format!("{}/{}/$metadata#users", req.base, req.version),
        "value": value,
    });
    if let Some(s) = skip {
        body["@odata.nextLink"] = Value::String(link(req, ("$skiptoken", s)));
    }
    if let Some(d) = delta {
        body["@odata.deltaLink"] = Value::String(link(req, ("$deltatoken", d)));
    }
    Response::json(200, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_keeps_only_its_latest_change_and_tombstones_clear_on_return() {
        let mut t = Tracker::default();
        t.touch("a", None);
        t.touch("b", None);
        t.touch("a", Some("deleted"));
        assert_eq!(t.log.values().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(t.removed.get("a"), Some(&"deleted"));
        t.touch("a", None);
        assert!(t.removed.is_empty());
        assert_eq!(t.log.len(), 2);
    }

    #[test]
    fn tokens_of_another_epoch_or_kind_do_not_decode() {
        let mut t = Tracker::default();
        t.touch("a", None);
        let tok = t.token(1);
        assert_eq!(decode(&tok, "d", 0), Some(vec![1]));
        assert_eq!(decode(&tok, "i", 0), None);
        t.expire();
        assert_eq!(decode(&tok, "d", t.epoch), None);
        assert_eq!(decode("not-a-token!", "d", 0), None);
    }
}

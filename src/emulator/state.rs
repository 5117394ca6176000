//! The emulator's tenant state ([`TenantState`]): seeded from a snapshot, changed by the Teams
//! admin endpoints, persisted with `--state` after every acknowledged
//! write, and served back as a snapshot.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::index::Index;
use crate::live::{LiveState, NumberAssignment};
use crate::numbers::{E164, NumberType};
use crate::snapshot;

/// A number operation (assignNumber / unassignNumber) in flight.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub created: String,
    pub ready_at: Instant,
    pub kind: OpKind,
    /// `None` while not finished; then `Ok(())` or the failure text.
    pub result: Option<Result<(), String>>,
    pub number: E164,
}

#[derive(Debug, Clone)]
pub enum OpKind {
    Assign {
        user_id: String,
        number_type: NumberType,
        category: String,
        location_id: Option<String>,
    },
    Unassign,
}

pub struct TenantState {
    /// The snapshot text it was seeded from (kept to preserve unknown fields).
    pub original: String,
    /// Users as the snapshot holds them (all properties), in file order,
    /// kept as compact JSON text (a third of the memory of parsed values).
    pub users_json: Vec<UserJson>,
    pub live: LiveState,
    /// Lookup tables (users, groups, numbers by holder), kept right on writes.
    pub idx: Index,
    /// Users with enterprise voice on (holding a number, or set by assign).
    pub enterprise_voice: HashSet<String, foldhash::fast::RandomState>,
    pub operations: BTreeMap<String, Operation>,
    /// Operations not finished yet, by the time they finish.
    pending: BTreeSet<(Instant, String)>,
    pub state_file: Option<PathBuf>,
    pub operation_delay: Duration,
    /// Directory changes for `/users/delta`.
    pub delta: super::delta::Tracker,
    /// The test endpoints changed users: snapshots come from `live`.
    pub users_changed: bool,
    /// Where the pages of the number inventory start ([`Self::numbers_from`]).
    marks: Mutex<NumberMarks>,
}

/// Every [`MARK_EVERY`]-th number of the inventory, in order, so a page at
/// `$skip` starts near its first number instead of walking every number
/// before it (a `BTreeMap` has no positional access). Taken from the
/// inventory when it had `len` numbers, `first` to `last`: the emulator
/// never takes a number out of the inventory (releasing one keeps it), so
/// a changed key set shows in those three, and the marks are taken again.
#[derive(Debug, Default)]
struct NumberMarks {
    len: usize,
    ends: Option<(E164, E164)>,
    marks: Vec<E164>,
}

const MARK_EVERY: usize = 256;

impl TenantState {
    pub fn load(
        text: String,
        file: &str,
        state_file: Option<PathBuf>,
        operation_delay: Duration,
    ) -> Result<Self, snapshot::SnapshotError> {
        let snap = snapshot::parse(file, &text)?;
        let mut live = snapshot::to_live(file, &snap)?;
        // Gone before the users are read again: the peak is one copy, not two.
        drop(snap);
        // Every policy needs an id to be assigned by; make missing ones stable.
        for by_name in live.policies.values_mut() {
            for p in by_name.values_mut() {
                if p.id.is_empty() {
                    p.id = policy_id(&p.policy_type, &p.name);
                }
            }
        }
        // Only the users, every property kept; the rest of the file is skipped.
        #[derive(serde::Deserialize)]
        struct Users {
            #[serde(default)]
            users: Option<Vec<UserJson>>,
        }
        let raw: Users =
            serde_json::from_str(&text).map_err(|e| snapshot::SnapshotError::Json {
                file: file.to_string(),
                json_path: "$".into(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        let users_json = raw.users.unwrap_or_default();
        let idx = Index::build(&live, &users_json);
        let enterprise_voice = live
            .numbers
            .values()
            .filter(|n| n.is_held())
            .filter_map(|n| n.target.clone())
            .collect();
        Ok(TenantState {
            original: text,
            users_json,
            live,
            idx,
            enterprise_voice,
            operations: BTreeMap::new(),
            pending: BTreeSet::new(),
            state_file,
            operation_delay,
            delta: super::delta::Tracker::new(),
            users_changed: false,
            marks: Mutex::new(NumberMarks::default()),
        })
    }

    /// The inventory's numbers in order from position `skip` (as
    /// `numbers.values().skip(skip)`, costing about the page, not `skip`).
    pub fn numbers_from(&self, skip: usize) -> impl Iterator<Item = &NumberAssignment> + '_ {
        let numbers = &self.live.numbers;
        let ends = numbers
            .first_key_value()
            .map(|(a, _)| *a)
            .zip(numbers.last_key_value().map(|(b, _)| *b));
        let start = {
            let mut m = self.marks.lock().unwrap_or_else(|e| e.into_inner());
            if m.len != numbers.len() || m.ends != ends {
                *m = NumberMarks {
                    len: numbers.len(),
                    ends,
                    marks: numbers.keys().step_by(MARK_EVERY).copied().collect(),
                };
            }
            m.marks.get(skip / MARK_EVERY).copied()
        };
        start
            .map(|k| numbers.range(k..))
            .into_iter()
            .flatten()
            .map(|(_, n)| n)
            .skip(skip % MARK_EVERY)
    }

    /// The state as a tenant snapshot (unknown fields of the seed kept).
    pub fn snapshot_text(&self) -> String {
        if self.users_changed {
            return serde_json::to_string_pretty(&snapshot::from_live(&self.live))
                .unwrap_or_default();
        }
        snapshot::patch(&self.original, &self.live).unwrap_or_else(|_| {
            serde_json::to_string_pretty(&snapshot::from_live(&self.live)).unwrap_or_default()
        })
    }

    /// Persist after a write, when `--state` was given.
    pub fn persist(&self) -> Result<(), String> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        crate::files::write_atomic(path, self.snapshot_text().as_bytes(), |_| Ok(()))
            .map_err(|e| format!("cannot persist state to `{}`: {e}", path.display()))
    }

    pub fn number_json(&self, n: &NumberAssignment) -> Value {
        serde_json::to_value(super::numbers::entity(&self.live.tenant_id, n)).unwrap_or(Value::Null)
    }

    /// One user's Teams configuration (as [`super::users::Configuration`]
    /// serialises it): costs what the user holds, not what the tenant holds.
    pub fn user_configuration(&self, i: usize) -> Value {
        let mut ids = super::users::PolicyIds::default();
        serde_json::to_value(super::users::configuration(self, i, &mut ids)).unwrap_or(Value::Null)
    }

    /// Start a number operation; it finishes `operation_delay` later.
    pub fn start_operation(&mut self, number: E164, kind: OpKind) -> String {
        let prefix = match kind {
            OpKind::Assign { .. } => "Assignment",
            OpKind::Unassign => "Unassignment",
        };
        let id = URL_SAFE_NO_PAD.encode(format!("{prefix}|{}", uuid::Uuid::new_v4()));
        let ready_at = Instant::now() + self.operation_delay;
        self.pending.insert((ready_at, id.clone()));
        self.operations.insert(
            id.clone(),
            Operation {
                id: id.clone(),
                created: super::odata::now_iso(),
                ready_at,
                kind,
                result: None,
                number,
            },
        );
        id
    }

    /// Finish every operation whose time has come, in the order they were
    /// started. Returns whether anything changed.
    pub fn complete_due(&mut self) -> bool {
        let mut changed = false;
        while self.has_due() {
            let Some((_, id)) = self.pending.pop_first() else {
                break;
            };
            changed = true;
            let op = self.operations[&id].clone();
            let result = self.run(&op);
            if let Some(o) = self.operations.get_mut(&id) {
                o.result = Some(result);
            }
        }
        changed
    }

    /// Whether an operation's time has come (cheap: a read can ask).
    pub fn has_due(&self) -> bool {
        self.pending
            .first()
            .is_some_and(|(at, _)| *at <= Instant::now())
    }

    fn run(&mut self, op: &Operation) -> Result<(), String> {
        let n = op.number;
        let before = self.live.numbers.get(&n).and_then(|a| a.target.clone());
        let result = self.run_op(op);
        let after = self.live.numbers.get(&n).and_then(|a| a.target.clone());
        self.idx.move_number(n, before.as_deref(), after.as_deref());
        result
    }

    fn run_op(&mut self, op: &Operation) -> Result<(), String> {
        let n = op.number;
        match &op.kind {
            OpKind::Assign {
                user_id,
                number_type,
                category,
                location_id,
            } => {
                let Some(&i) = self.idx.user.get(user_id) else {
                    return Err(format!("User '{user_id}' was not found"));
                };
                if let Some(e) = super::licences::refusal(self, i, *number_type) {
                    return Err(e);
                }
                self.live.assign_number(
                    n,
                    user_id,
                    *number_type,
                    category,
                    location_id.as_deref(),
                )?;
                self.enterprise_voice.insert(user_id.clone());
                Ok(())
            }
            OpKind::Unassign => {
                if let Some(t) = self.live.unassign_number(n) {
                    self.enterprise_voice.remove(&t);
                }
                Ok(())
            }
        }
    }

    pub fn operation_json(&self, op: &Operation, base: &str) -> Value {
        let (status, detail) = match &op.result {
            None if Instant::now() + self.operation_delay / 2 < op.ready_at => ("notStarted", None),
            None => ("running", None),
            Some(Ok(())) => ("succeeded", None),
            Some(Err(e)) => ("failed", Some(e.clone())),
        };
        json!({
            "@odata.type": "#microsoft.graph.teamsAdministration.telephoneNumberLongRunningOperation",
            "id": op.id,
            "createdDateTime": op.created,
            "status": status,
            "numbers": [{
                "resourceLocation": format!("{base}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/{}", number_entity_id(&self.live.tenant_id, op.number)),
                "status": status,
                "statusDetail": detail,
            }]
        })
    }
}

/// One user of the snapshot: its id, and all its properties as compact
/// JSON text, parsed again when a page shows it.
#[derive(Debug, Clone)]
pub struct UserJson {
    pub id: Box<str>,
    text: Box<str>,
}

impl UserJson {
    pub fn from_value(v: &Value) -> Self {
        UserJson {
            id: v
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            text: v.to_string().into_boxed_str(),
        }
    }

    pub fn value(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// All its properties, as compact JSON text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<'de> serde::Deserialize<'de> for UserJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .into();
        let text = serde_json::to_string(&v)
            .map_err(serde::de::Error::custom)?
            .into_boxed_str();
        Ok(UserJson { id, text })
    }
}

/// Stable opaque policy id for a policy the snapshot gave none.
pub fn policy_id(policy_type: &str, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!(
        "{}|{}",
        policy_type.to_lowercase(),
        name.to_lowercase()
    ));
    URL_SAFE_NO_PAD.encode(&h[..32])
}

/// Graph-like number entity id: base64url("{tenant}|+E164").
pub fn number_entity_id(tenant: &str, n: E164) -> String {
    URL_SAFE_NO_PAD.encode(format!("{tenant}|{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_numbers(n: usize) -> TenantState {
        let numbers: Vec<Value> = (0..n)
            .map(|k| json!({"telephoneNumber": format!("+4420712{:05}", k * 3)}))
            .collect();
        let text = json!({"format_version": 1, "users": [], "numberAssignments": numbers});
        TenantState::load(text.to_string(), "t.json", None, Duration::ZERO).unwrap()
    }

    fn numbers_at(t: &TenantState, skip: usize) -> Vec<E164> {
        t.numbers_from(skip).take(7).map(|n| n.number).collect()
    }

    fn walked(t: &TenantState, skip: usize) -> Vec<E164> {
        t.live.numbers.keys().skip(skip).take(7).copied().collect()
    }

    #[test]
    fn numbers_from_a_position_are_the_numbers_walked_to_it() {
        let mut t = with_numbers(3 * MARK_EVERY + 5);
        let len = t.live.numbers.len();
        for skip in [
            0,
            1,
            255,
            256,
            257,
            600,
            len - 7,
            len - 1,
            len,
            len + 1,
            10 * len,
        ] {
            assert_eq!(numbers_at(&t, skip), walked(&t, skip), "skip {skip}");
        }
        // A number added before the others (as `assignNumber` adds one
        // outside the inventory): the marks are taken again.
        let first: E164 = "+442071199999".parse().unwrap();
        let mut entry = t.live.numbers.values().next().unwrap().clone();
        entry.number = first;
        t.live.numbers.insert(first, entry);
        for skip in [0, 1, 256, 300, len] {
            assert_eq!(numbers_at(&t, skip), walked(&t, skip), "skip {skip}");
        }
        assert_eq!(numbers_at(&t, 0)[0], first);
        // One in the middle (the ends unchanged, the count not).
        let middle: E164 = "+442071200301".parse().unwrap();
        assert!(!t.live.numbers.contains_key(&middle));
        let mut entry = t.live.numbers.values().next().unwrap().clone();
        entry.number = middle;
        t.live.numbers.insert(middle, entry);
        for skip in [0, 95, 100, 101, 256, 257, len] {
            assert_eq!(numbers_at(&t, skip), walked(&t, skip), "skip {skip}");
        }
    }
}

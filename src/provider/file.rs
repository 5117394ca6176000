//! The file provider: a tenant snapshot on disk is the live tenant.
//!
//! Writes change an in-memory [`LiveState`] with the same rules Graph
//! applies (unknown policy or user: error; a number held by someone else:
//! error; Calling Plan and Operator Connect numbers must be in the
//! inventory), and `commit` writes the file to a temporary file beside it
//! and renames it over the old one, keeping unknown fields. `lock` holds
//! `<snapshot>.lock` (an OS advisory lock) so two applies take turns; and
//! `commit` writes onto the file as it is at commit time, not as it was
//! read: the writes that succeeded are applied again onto what is there
//! now, so a writer that ignored the lock loses nothing either. It never
//! prompts or decides: when to lock is the caller's choice.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{DEFAULT_LOCK_TIMEOUT, Outcome, Provider, ProviderError};
use crate::files::{FileLock, LockError, Text};
use crate::live::LiveState;
use crate::plan::schedule::Step;
use crate::snapshot;

pub struct FileProvider {
    path: PathBuf,
    /// The snapshot text `live` was read from (or last written).
    original: Option<Text>,
    live: Option<Arc<LiveState>>,
    dirty: bool,
    /// The writes (narrowed to the users they succeeded for) since the last
    /// commit, to apply again onto the file as it is at commit time.
    done: Vec<Step>,
    lock: Option<FileLock>,
}

impl FileProvider {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileProvider {
            path: path.into(),
            original: None,
            live: None,
            dirty: false,
            done: Vec::new(),
            lock: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&self) -> String {
        self.path.display().to_string()
    }

    /// The snapshot's text as it is now.
    fn read(&self) -> Result<Text, ProviderError> {
        Text::read(&self.path).map_err(|source| {
            ProviderError::Snapshot(snapshot::SnapshotError::Io {
                file: self.file(),
                source,
            })
        })
    }

    /// The live state a snapshot text describes.
    fn parse(&self, text: &str) -> Result<LiveState, ProviderError> {
        let file = self.file();
        Ok(snapshot::parse_live(&file, text)?)
    }

    fn load(&mut self) -> Result<&mut Arc<LiveState>, ProviderError> {
        if self.live.is_none() {
            let text = self.read()?;
            let live = self.parse(&text)?;
            self.live = Some(Arc::new(live));
            self.original = Some(text);
        }
        Ok(self.live.as_mut().expect("loaded above"))
    }

    /// Take the lock beside the snapshot, saying once on stderr whom we
    /// wait for.
    fn take_lock(&self, timeout: Duration) -> Result<FileLock, ProviderError> {
        let file = self.file();
        let on_wait = |holder: Option<&crate::files::LockHolder>| {
            let who = holder.map_or_else(|| "another process".to_string(), |h| h.to_string());
            eprintln!(
                "waiting for the lock on the tenant snapshot `{file}`: held by {who}; giving up after {} (`--lock-timeout`)",
                humantime::format_duration(timeout)
            );
        };
        crate::files::lock_beside(&self.path, timeout, on_wait).map_err(|e| match e {
            LockError::Busy {
                path,
                holder,
                waited,
            } => ProviderError::Locked {
                file: file.clone(),
                lock: path.display().to_string(),
                holder: holder.map_or_else(|| "another process".to_string(), |h| h.to_string()),
                waited: if waited.as_secs() > 0 {
                    format!(
                        ", waited {}",
                        humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    )
                } else {
                    String::new()
                },
            },
            LockError::Io { path, source } => ProviderError::Lock {
                file: file.clone(),
                lock: path.display().to_string(),
                source,
            },
        })
    }

    /// The live state to write: the file as it is now with this apply's
    /// writes applied again, unless nobody changed the file since it was
    /// read (then the state in memory is exactly that).
    fn rebase(
        &self,
        original: &str,
        live: &Arc<LiveState>,
    ) -> Result<(Text, Arc<LiveState>), ProviderError> {
        let current = self.read()?;
        if *current == *original {
            return Ok((current, live.clone()));
        }
        let mut fresh = self.parse(&current)?;
        let index = user_index(&fresh);
        let mut out = Vec::new();
        for w in &self.done {
            apply_write(&mut fresh, &index, w, &mut out);
        }
        let conflicts: Vec<String> = out
            .into_iter()
            .filter_map(|o| o.error.map(|e| format!("{}: {e}", o.user_id)))
            .collect();
        if !conflicts.is_empty() {
            return Err(ProviderError::Conflict {
                file: self.file(),
                conflicts,
            });
        }
        Ok((current, Arc::new(fresh)))
    }
}

impl Provider for FileProvider {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn fetch(&mut self) -> Result<Arc<LiveState>, ProviderError> {
        self.load().cloned()
    }

    fn execute(&mut self, writes: &[Step]) -> Vec<Outcome> {
        let live = match self.load() {
            Ok(l) => Arc::make_mut(l),
            Err(e) => {
                return writes
                    .iter()
                    .flat_map(Step::user_ids)
                    .map(|u| Outcome::failed(&u, e.to_string()))
                    .collect();
            }
        };
        let index = user_index(live);
        let mut out = Vec::new();
        let mut done = Vec::new();
        for w in writes {
            let from = out.len();
            apply_write(live, &index, w, &mut out);
            done.extend(succeeded(w, &out[from..]));
        }
        self.done.append(&mut done);
        self.dirty = true;
        out
    }

    fn commit(&mut self) -> Result<(), ProviderError> {
        if !self.dirty {
            return Ok(());
        }
        let (Some(original), Some(live)) = (&self.original, &self.live) else {
            return Ok(());
        };
        // The re-read and the write happen under the lock, taken here for
        // this step when the caller did not take it for the whole apply.
        let _held = match self.lock {
            Some(_) => None,
            None => Some(self.take_lock(DEFAULT_LOCK_TIMEOUT)?),
        };
        let (base, live) = self.rebase(original, live)?;
        let text = snapshot::patch(&base, &live).map_err(|source| ProviderError::Patch {
            file: self.file(),
            source,
        })?;
        crate::files::write_atomic(&self.path, text.as_bytes(), |_| Ok(())).map_err(|source| {
            ProviderError::Write {
                file: self.file(),
                source,
            }
        })?;
        self.original = Some(Text::from(text));
        self.live = Some(live);
        self.done.clear();
        self.dirty = false;
        Ok(())
    }

    fn lock(&mut self, timeout: Duration) -> Result<(), ProviderError> {
        if self.lock.is_none() {
            self.lock = Some(self.take_lock(timeout)?);
            // A state read before the lock may be stale already.
            if !self.dirty {
                self.live = None;
                self.original = None;
            }
        }
        Ok(())
    }
}

/// `w` narrowed to the users its outcomes say it succeeded for; `None`
/// when it succeeded for none.
fn succeeded(w: &Step, outcomes: &[Outcome]) -> Option<Step> {
    let ok: HashSet<&str> = outcomes
        .iter()
        .filter(|o| o.error.is_none())
        .map(|o| o.user_id.as_str())
        .collect();
    let keep = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .filter(|id| ok.contains(id.as_str()))
            .cloned()
            .collect()
    };
    let narrowed = match w {
        Step::AssignPolicy {
            policy_type,
            policy,
            user_ids,
        } => Step::AssignPolicy {
            policy_type: policy_type.clone(),
            policy: policy.clone(),
            user_ids: keep(user_ids),
        },
        Step::RemovePolicy {
            policy_type,
            user_ids,
        } => Step::RemovePolicy {
            policy_type: policy_type.clone(),
            user_ids: keep(user_ids),
        },
        Step::ReleaseNumber { user_id, .. } | Step::AssignNumber { user_id, .. } => {
            if !ok.contains(user_id.as_str()) {
                return None;
            }
            w.clone()
        }
    };
    (!narrowed.user_ids().is_empty()).then_some(narrowed)
}

/// User id -> index into `live.users` (build once per batch of writes).
pub fn user_index(live: &LiveState) -> HashMap<String, usize> {
    live.users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.clone(), i))
        .collect()
}

/// Apply one write to a live state as Graph would; push one outcome per user.
pub fn apply_write(
    live: &mut LiveState,
    index: &HashMap<String, usize>,
    w: &Step,
    out: &mut Vec<Outcome>,
) {
    match w {
        Step::AssignPolicy {
            policy_type,
            policy,
            user_ids,
        } => {
            let instance = live.policy(policy_type, policy).map(|p| p.name.clone());
            let mut targets = Vec::new();
            for id in user_ids {
                match (&instance, index.get(id)) {
                    (None, _) => out.push(Outcome::failed(
                        id,
                        format!("policy `{policy}` of type `{policy_type}` does not exist"),
                    )),
                    (_, None) => {
                        out.push(Outcome::failed(id, format!("user `{id}` does not exist")))
                    }
                    (Some(_), Some(&i)) => targets.push((i, id)),
                }
            }
            if let Some(name) = instance {
                for (i, id) in targets {
                    live.users[i]
                        .policies
                        .insert(policy_type.clone(), name.clone());
                    out.push(Outcome::ok(id));
                }
            }
        }
        Step::RemovePolicy {
            policy_type,
            user_ids,
        } => {
            for id in user_ids {
                match index.get(id) {
                    Some(&i) => {
                        live.users[i].policies.remove(policy_type);
                        out.push(Outcome::ok(id));
                    }
                    None => out.push(Outcome::failed(id, format!("user `{id}` does not exist"))),
                }
            }
        }
        Step::ReleaseNumber { user_id, number } => {
            let n = *number;
            match live.numbers.get(&n) {
                Some(a) if a.target.as_deref() == Some(user_id.as_str()) => {
                    live.unassign_number(n);
                    out.push(Outcome::ok(user_id));
                }
                // Already released (e.g. an apply retried): nothing to do.
                Some(a) if !a.is_held() => out.push(Outcome::ok(user_id)),
                None => out.push(Outcome::ok(user_id)),
                Some(_) => out.push(Outcome::failed(
                    user_id,
                    format!("Telephone Number '{n}' is not assigned to user '{user_id}'"),
                )),
            }
        }
        Step::AssignNumber {
            user_id,
            number,
            number_type,
            location_id,
        } => {
            let n = *number;
            let Some(&i) = index.get(user_id) else {
                out.push(Outcome::failed(
                    user_id,
                    format!("user `{user_id}` does not exist"),
                ));
                return;
            };
            // As Teams refuses it (only when the snapshot records licences).
            if let Some(e) = crate::licensing::assign_refusal(live, &live.users[i], *number_type) {
                out.push(Outcome::failed(user_id, e));
                return;
            }
            match live.assign_number(n, user_id, *number_type, "primary", location_id.as_deref()) {
                Ok(()) => out.push(Outcome::ok(user_id)),
                Err(e) => out.push(Outcome::failed(user_id, e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::{E164, NumberType};

    const SNAPSHOT: &str = r#"{
  "format_version": 1,
  "users": [
    { "id": "u1", "userPrincipalName": "u1@contoso.com" },
    { "id": "u2", "userPrincipalName": "u2@contoso.com" }
  ],
  "policies": [
    { "policyType": "TeamsCallingPolicy", "name": "AllowCalling", "policyId": "p1" }
  ],
  "policyAssignments": [],
  "numberAssignments": [],
  "x-kept": "by every writer"
}
"#;

    fn tenant() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant.json");
        std::fs::write(&path, SNAPSHOT).unwrap();
        (dir, path)
    }

    fn calling(users: &[&str]) -> Step {
        Step::AssignPolicy {
            policy_type: "TeamsCallingPolicy".into(),
            policy: "AllowCalling".into(),
            user_ids: users.iter().map(|u| u.to_string()).collect(),
        }
    }

    fn number(user: &str, n: &str) -> Step {
        Step::AssignNumber {
            user_id: user.into(),
            number: E164::parse(n).unwrap(),
            number_type: NumberType::DirectRouting,
            location_id: None,
        }
    }

    fn policy_of(live: &LiveState, user: &str) -> Option<String> {
        let u = live.users.iter().find(|u| u.id == user).unwrap();
        u.policies.get("TeamsCallingPolicy").cloned()
    }

    /// One apply reads the file; another (which ignores the lock) writes
    /// its own user in between; the first commit keeps both.
    #[test]
    fn commit_writes_onto_the_file_as_it_is_then() {
        let (_dir, path) = tenant();
        let mut first = FileProvider::new(&path);
        first.fetch().unwrap();
        let out = first.execute(&[calling(&["u1"])]);
        assert!(out.iter().all(|o| o.error.is_none()), "{out:?}");

        let mut other = FileProvider::new(&path);
        let out = other.execute(&[calling(&["u2"]), number("u2", "+442071230005")]);
        assert!(out.iter().all(|o| o.error.is_none()), "{out:?}");
        other.commit().unwrap();

        first.commit().unwrap();
        let after = FileProvider::new(&path).fetch().unwrap();
        assert_eq!(policy_of(&after, "u1").as_deref(), Some("AllowCalling"));
        assert_eq!(policy_of(&after, "u2").as_deref(), Some("AllowCalling"));
        let n = E164::parse("+442071230005").unwrap();
        assert_eq!(after.numbers[&n].target.as_deref(), Some("u2"));
        // What the provider holds is what is on disk.
        assert_eq!(*first.fetch().unwrap(), *after);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""x-kept": "by every writer""#), "{text}");
    }

    /// With licences recorded, a number for an unlicensed user fails as
    /// Teams fails it, and the licences stay in the file as they were.
    #[test]
    fn a_number_for_an_unlicensed_user_fails() {
        let (_dir, path) = tenant();
        let licensed = SNAPSHOT
            .replace(
                r#""u1@contoso.com" }"#,
                r#""u1@contoso.com", "assignedLicenses": [{ "skuId": "ev", "disabledPlans": [] }] }"#,
            )
            .replace(
                r#""x-kept""#,
                r#""subscribedSkus": [{ "skuId": "ev", "servicePlans": [{ "servicePlanId": "4828c8ec-dc2e-4779-b502-87ac9ce28ab7" }] }],
  "x-kept""#,
            );
        std::fs::write(&path, &licensed).unwrap();
        let mut p = FileProvider::new(&path);
        let out = p.execute(&[number("u1", "+442071230005"), number("u2", "+442071230006")]);
        assert_eq!(out[0].error, None);
        assert_eq!(
            out[1].error.as_deref(),
            Some("User 'u2' lacks appropriate licenses to assign a 'DirectRouting' number")
        );
        p.commit().unwrap();
        let after = FileProvider::new(&path).fetch().unwrap();
        assert_eq!(after.users[0].licences.len(), 1);
        assert!(after.licensing.is_some());
        assert_eq!(after.numbers.len(), 1);
    }

    /// Only the writes that succeeded are applied again: a user that did
    /// not exist at execute time gets nothing when one appears meanwhile.
    #[test]
    fn failed_writes_are_not_applied_again() {
        let (_dir, path) = tenant();
        let mut first = FileProvider::new(&path);
        let out = first.execute(&[calling(&["u1", "u3"])]);
        assert_eq!(out.iter().filter(|o| o.error.is_some()).count(), 1);
        let with_u3 = SNAPSHOT.replace(
            r#"{ "id": "u2", "userPrincipalName": "u2@contoso.com" }"#,
            r#"{ "id": "u2", "userPrincipalName": "u2@contoso.com" },
    { "id": "u3", "userPrincipalName": "u3@contoso.com" }"#,
        );
        std::fs::write(&path, with_u3).unwrap();
        first.commit().unwrap();
        let after = FileProvider::new(&path).fetch().unwrap();
        assert_eq!(after.users.len(), 3);
        assert_eq!(policy_of(&after, "u1").as_deref(), Some("AllowCalling"));
        assert_eq!(policy_of(&after, "u3"), None);
    }

    /// A write that no longer fits the file (its number was given to
    /// someone else meanwhile) fails the commit; the file is left as the
    /// other writer left it.
    #[test]
    fn a_conflict_at_commit_writes_nothing() {
        let (_dir, path) = tenant();
        let mut first = FileProvider::new(&path);
        let out = first.execute(&[calling(&["u1"]), number("u1", "+442071230005")]);
        assert!(out.iter().all(|o| o.error.is_none()), "{out:?}");
        let mut other = FileProvider::new(&path);
        other.execute(&[number("u2", "+442071230005")]);
        other.commit().unwrap();
        let theirs = std::fs::read_to_string(&path).unwrap();

        let err = first.commit().unwrap_err();
        assert!(matches!(err, ProviderError::Conflict { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("changed by another writer"), "{msg}");
        assert!(msg.contains("u1:"), "{msg}");
        assert!(msg.contains("nothing was written"), "{msg}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
    }

    #[test]
    fn a_second_lock_fails_naming_the_holder_until_the_first_is_dropped() {
        let (dir, path) = tenant();
        let mut first = FileProvider::new(&path);
        first.lock(Duration::ZERO).unwrap();
        let mut second = FileProvider::new(&path);
        let err = second.lock(Duration::ZERO).unwrap_err();
        assert!(matches!(err, ProviderError::Locked { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("process {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("tenant.json.lock"), "{msg}");
        assert!(msg.contains("--lock-timeout"), "{msg}");
        drop(first);
        second.lock(Duration::ZERO).unwrap();
        assert!(dir.path().join("tenant.json.lock").exists());
    }

    /// What was read before the lock is read again after it.
    #[test]
    fn lock_drops_a_state_read_before_it() {
        let (_dir, path) = tenant();
        let mut p = FileProvider::new(&path);
        assert_eq!(p.fetch().unwrap().users.len(), 2);
        std::fs::write(
            &path,
            SNAPSHOT.replace(
                r#"{ "id": "u2", "userPrincipalName": "u2@contoso.com" }"#,
                r#"{ "id": "u2", "userPrincipalName": "u2@contoso.com" },
    { "id": "u3", "userPrincipalName": "u3@contoso.com" }"#,
            ),
        )
        .unwrap();
        p.lock(Duration::ZERO).unwrap();
        assert_eq!(p.fetch().unwrap().users.len(), 3);
    }
}

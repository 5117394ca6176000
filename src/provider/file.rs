//! The file provider: a tenant snapshot on disk is the live tenant.
//!
//! Writes change an in-memory [`LiveState`] with the same rules Graph
//! applies (unknown policy or user: error; a number held by someone else:
//! error; Calling Plan and Operator Connect numbers must be in the
//! inventory), and `commit` writes the whole file to a temporary file
//! beside it and renames it over the old one, keeping unknown fields.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Outcome, Provider, ProviderError};
use crate::live::LiveState;
use crate::plan::schedule::Step;
use crate::snapshot;

pub struct FileProvider {
    path: PathBuf,
    original: Option<String>,
    live: Option<Arc<LiveState>>,
    dirty: bool,
}

impl FileProvider {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileProvider {
            path: path.into(),
            original: None,
            live: None,
            dirty: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&mut self) -> Result<&mut Arc<LiveState>, ProviderError> {
        if self.live.is_none() {
            let file = self.path.display().to_string();
            let text = std::fs::read_to_string(&self.path).map_err(|source| {
                snapshot::SnapshotError::Io {
                    file: file.clone(),
                    source,
                }
            })?;
            let snap = snapshot::parse(&file, &text)?;
            self.live = Some(Arc::new(snapshot::into_live(&file, snap)?));
            self.original = Some(text);
        }
        Ok(self.live.as_mut().expect("loaded above"))
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
        for w in writes {
            apply_write(live, &index, w, &mut out);
        }
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
        let text = snapshot::patch(original, live).map_err(|source| ProviderError::Patch {
            file: self.path.display().to_string(),
            source,
        })?;
        crate::files::write_atomic(&self.path, text.as_bytes(), |_| Ok(())).map_err(|source| {
            ProviderError::Write {
                file: self.path.display().to_string(),
                source,
            }
        })?;
        self.original = Some(text);
        self.dirty = false;
        Ok(())
    }
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
            if !index.contains_key(user_id) {
                out.push(Outcome::failed(
                    user_id,
                    format!("user `{user_id}` does not exist"),
                ));
                return;
            }
            match live.assign_number(n, user_id, *number_type, "primary", location_id.as_deref()) {
                Ok(()) => out.push(Outcome::ok(user_id)),
                Err(e) => out.push(Outcome::failed(user_id, e)),
            }
        }
    }
}

//! Applying a plan: [`gate`] refuses what must not be applied ([`verify`]
//! checks a saved plan, [`revert`] computes and checks a revert); [`execute`]
//! runs the schedule through a provider stage by stage, and reports per
//! user.
//!
//! A user whose number release failed is not given a new number (it would
//! hold two); every other write goes on when one fails.

pub mod gate;
pub mod guard;
pub mod revert;
pub mod verify;

pub use gate::{Refusal, stale_users};

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::numbers::E164;
use crate::plan::Plan;
use crate::plan::schedule::{self, Step};
use crate::provider::{Outcome, Provider, ProviderError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Applied,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserReport {
    #[serde(rename = "userPrincipalName")]
    pub upn: String,
    pub id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub applied: usize,
    pub failed: usize,
    pub skipped: usize,
    pub users: Vec<UserReport>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.skipped == 0
    }
}

/// Told about writes before they are made, so that what an apply changes
/// is on record first (write-ahead): a run killed part-way leaves a record
/// of everything it may have done.
pub trait Recorder {
    /// These numbers are about to be released: (holder's UPN, number).
    /// An error stops the apply before any write.
    fn releasing(&mut self, numbers: &[(String, E164)]) -> Result<(), String>;
}

/// Records nothing.
pub struct NoRecord;

impl Recorder for NoRecord {
    fn releasing(&mut self, _: &[(String, E164)]) -> Result<(), String> {
        Ok(())
    }
}

/// Why an apply stopped before it finished.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{0}\nhint: nothing was changed; fix the state store and apply again")]
    Record(String),
}

/// Run `plan` through `provider`. `progress(done, total)` is called after
/// each stage's writes (for a progress bar).
pub fn execute(
    plan: &Plan,
    provider: &mut dyn Provider,
    batch: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, ProviderError> {
    execute_recorded(plan, provider, batch, progress, &mut NoRecord).map_err(|e| match e {
        ExecuteError::Provider(p) => p,
        ExecuteError::Record(_) => unreachable!("NoRecord records nothing"),
    })
}

/// [`execute`], telling `recorder` about releases before they are made.
pub fn execute_recorded(
    plan: &Plan,
    provider: &mut dyn Provider,
    batch: usize,
    progress: &mut dyn FnMut(usize, usize),
    recorder: &mut dyn Recorder,
) -> Result<Report, ExecuteError> {
    let sched = schedule::schedule(plan, batch);
    let total = sched.len();
    let mut done = 0;
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut skipped: HashSet<String> = HashSet::new();
    let record = |outcomes: Vec<Outcome>, errors: &mut BTreeMap<String, Vec<String>>| {
        for o in outcomes {
            if let Some(e) = o.error {
                errors.entry(o.user_id).or_default().push(e);
            }
        }
    };
    let upn: HashMap<&str, &str> = plan
        .changes
        .iter()
        .map(|c| (c.user.id.as_str(), c.user.upn.as_str()))
        .collect();
    // A number this plan also gives to someone (a pin moving it) does not
    // go free: it is not quarantined, so a run interrupted between the
    // release and the assignment completes the move when run again.
    let moving: HashSet<E164> = plan
        .changes
        .iter()
        .flat_map(|c| &c.actions)
        .filter_map(|a| match a {
            crate::plan::Action::AssignNumber { number, .. } => Some(*number),
            _ => None,
        })
        .collect();
    let releasing: Vec<(String, E164)> = sched
        .releases
        .iter()
        .filter_map(|s| match s {
            Step::ReleaseNumber { user_id, number } if !moving.contains(number) => Some((
                upn.get(user_id.as_str())
                    .copied()
                    .unwrap_or(user_id)
                    .to_string(),
                *number,
            )),
            _ => None,
        })
        .collect();
    if !releasing.is_empty() {
        recorder
            .releasing(&releasing)
            .map_err(ExecuteError::Record)?;
    }
    let release = provider.execute(&sched.releases);
    let failed_release: HashSet<String> = release
        .iter()
        .filter(|o| o.error.is_some())
        .map(|o| o.user_id.clone())
        .collect();
    record(release, &mut errors);
    done += sched.releases.len();
    progress(done, total);

    let policies = provider.execute(&sched.policies);
    record(policies, &mut errors);
    done += sched.policies.len();
    progress(done, total);

    let assignments: Vec<Step> = sched
        .assignments
        .into_iter()
        .filter(|w| match w {
            Step::AssignNumber { user_id, .. } if failed_release.contains(user_id) => {
                skipped.insert(user_id.clone());
                false
            }
            _ => true,
        })
        .collect();
    let outcomes = provider.execute(&assignments);
    record(outcomes, &mut errors);
    done += assignments.len();
    progress(total.max(done), total);
    provider.commit()?;

    let mut report = Report {
        applied: 0,
        failed: 0,
        skipped: 0,
        users: Vec::new(),
    };
    for c in &plan.changes {
        let errs = errors.remove(&c.user.id).unwrap_or_default();
        let status = if !errs.is_empty() {
            report.failed += 1;
            Status::Failed
        } else if skipped.contains(&c.user.id) {
            report.skipped += 1;
            Status::Skipped
        } else {
            report.applied += 1;
            Status::Applied
        };
        report.users.push(UserReport {
            upn: c.user.upn.clone(),
            id: c.user.id.clone(),
            status,
            errors: errs,
        });
    }
    Ok(report)
}

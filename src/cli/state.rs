//! The state directory as the commands use it: which numbers are in
//! quarantine now, and recording releases before an apply makes them.

use std::time::Duration;

use super::plan::now;
use super::{Global, Result};
use crate::numbers::E164;
use crate::state::StateDir;

/// The state directory of this config: `.roster-state/` beside the
/// manifests.
pub fn state_dir(g: &Global) -> StateDir {
    StateDir::new(g.config.join(crate::state::DEFAULT_DIR))
}

/// How many days before an override expires the plan warns.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// What plans depend on besides manifests and tenant: the numbers in
/// quarantine now, today's date and the override expiry warning window.
pub fn context(g: &Global) -> Result<crate::desired::Context> {
    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let quarantine = state_dir(g).quarantine()?;
    let held_back = quarantine
        .held_back(&now())
        .into_iter()
        .filter_map(|n| {
            let e = quarantine.numbers.get(&n)?;
            Some((
                n,
                crate::desired::HeldBack {
                    until: e.until.clone(),
                    released_at: e.released_at.clone(),
                    holder: e.holder.clone(),
                },
            ))
        })
        .collect();
    Ok(crate::desired::Context {
        held_back,
        today: Some(day(today)),
        warn_until: today
            .checked_add(time::Duration::days(EXPIRY_WARNING_DAYS))
            .map(day),
    })
}

/// The directory sanity guard before an apply: this census, compared with
/// the last apply's (refused unless `force`). The caller saves the census
/// with [`save_census`] once the apply ran.
pub fn guard_directory(
    g: &Global,
    loaded: &crate::manifest::Loaded,
    live: &crate::live::LiveState,
    plan: &crate::plan::Plan,
    force: bool,
) -> Result<crate::apply::guard::Census> {
    let census =
        crate::apply::guard::census(&loaded.manifest, live, plan.summary.users_in_scope, &now());
    if let Some(before) = state_dir(g).census()?
        && let Err(r) =
            crate::apply::guard::check(&before, &census, &loaded.manifest.settings().safety)
    {
        if !force {
            return Err(super::Failure::new(format!(
                "refusing to apply: {r}\nhint: {}",
                r.hint()
            )));
        }
        eprintln!("warning: applying because of --force: {r}");
    }
    Ok(census)
}

/// Record the census of an apply that ran: the next apply compares with it.
/// A failure to write it is a warning (the tenant changed already).
pub fn save_census(g: &Global, census: &crate::apply::guard::Census) {
    if let Err(e) = state_dir(g).save_census(census) {
        eprintln!("warning: {e}");
    }
}

/// Who runs this apply: the CI run's URL where there is one, else
/// `user@host`.
pub fn who() -> String {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(server), Some(repo), Some(run)) = (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_RUN_ID"),
    ) {
        return format!("{server}/{repo}/actions/runs/{run}");
    }
    if let Some(url) = var("CI_JOB_URL") {
        return url;
    }
    if let (Some(coll), Some(project), Some(build)) = (
        var("SYSTEM_COLLECTIONURI"),
        var("SYSTEM_TEAMPROJECT"),
        var("BUILD_BUILDID"),
    ) {
        return format!("{coll}{project}/_build/results?buildId={build}");
    }
    let user = var("USER")
        .or_else(|| var("USERNAME"))
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{}", crate::files::hostname())
}

/// Record an apply in the journal. A journal that cannot be written (after
/// one retry) gets the entry in a local fallback file, named in the output,
/// so nothing done is unrecorded.
pub fn record_apply(
    g: &Global,
    plan: &crate::plan::Plan,
    before: &crate::live::LiveState,
    report: &crate::apply::Report,
) {
    let id = uuid::Uuid::new_v4().to_string();
    let state = state_dir(g);
    // An unreadable journal still gets this entry (appended, or the
    // fallback file); drift is then not marked.
    let last = state
        .journal()
        .map(|j| crate::state::journal::last_after(&j))
        .unwrap_or_default();
    let entry = crate::state::journal::entry(plan, before, report, &last, &id, &now(), &who());
    let first = state.append_journal(&entry);
    let Err(first) = first.or_else(|_| state.append_journal(&entry)) else {
        eprintln!("journal: apply {id} recorded in {}", state.path().display());
        return;
    };
    let name = format!("roster-journal-{id}.json");
    let text = serde_json::to_string_pretty(&entry).expect("an entry serialises");
    let places = [
        std::path::PathBuf::from(&name),
        std::env::temp_dir().join(&name),
    ];
    for place in places {
        if crate::files::write_atomic(&place, text.as_bytes(), |_| Ok(())).is_ok() {
            eprintln!(
                "warning: the journal could not be written ({first}); this apply's entry is in `{}`: add it to the journal by hand",
                place.display()
            );
            return;
        }
    }
    eprintln!(
        "error: the journal could not be written ({first}), nor a fallback file; this apply's entry:\n{text}"
    );
}

/// Records each release in the quarantine before it is made.
pub struct QuarantineRecorder {
    pub state: StateDir,
    pub period: Duration,
}

impl crate::apply::Recorder for QuarantineRecorder {
    fn releasing(&mut self, numbers: &[(String, E164)]) -> std::result::Result<(), String> {
        if self.period.is_zero() {
            return Ok(());
        }
        let (now, until) = now_and_later(self.period);
        self.state
            .update_quarantine(|q| {
                q.expire(&now);
                for (holder, n) in numbers {
                    q.record(*n, holder, &now, &until);
                }
            })
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// Now, and now plus `period` (RFC 3339, UTC, to the second).
fn now_and_later(period: Duration) -> (String, String) {
    let format = time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let later = time::Duration::try_from(period)
        .ok()
        .and_then(|p| t.checked_add(p))
        .and_then(|l| l.format(&format).ok())
        .unwrap_or_else(|| "9999-12-31T23:59:59Z".to_string());
    (t.format(&format).unwrap_or_default(), later)
}

#[cfg(test)]
mod tests {
    #[test]
    fn later_is_now_plus_the_period() {
        let (now, later) = super::now_and_later(std::time::Duration::from_secs(0));
        assert_eq!(now, later);
        let (now, later) =
            super::now_and_later(crate::manifest::NumberSettings::DEFAULT_QUARANTINE);
        assert!(later > now, "{now} < {later}");
        assert_eq!(now.len(), later.len());
    }
}

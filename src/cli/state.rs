//! The state store as the commands use it: opening the one the tenant
//! settings name, the apply lock around an apply, which numbers are in
//! quarantine now, recording releases before an apply makes them, and the
//! journal entry after it.

use std::sync::Arc;
use std::time::Duration;

use super::plan::now;
use super::{Failure, Global, Result};
use crate::manifest::{ProviderConfig, StateConfig, Tenant};
use crate::numbers::E164;
use crate::state::azure::{AzureAuth, AzureConfig, AzureStore};
use crate::state::{LockRequest, StateDir, StateLock};

/// The variable a storage connection string is read from by default.
pub const CONNECTION_STRING_ENV: &str = "AZURE_STORAGE_CONNECTION_STRING";

/// The state store of this config, as its tenant settings name it. The
/// manifests are read quietly when they load (a command that loaded them
/// already reported their warnings); manifests that cannot be read or have
/// errors fail here with their diagnostics, as `plan` does: the store
/// they name is unknown, and another one (the default `.roster-state/`)
/// must never be read or changed in its place.
pub fn state_dir(g: &Global) -> Result<StateDir> {
    let loaded = crate::config_dir::load(&g.config)?;
    let loaded = if loaded.has_errors() {
        super::checked(loaded, "the manifests")?
    } else {
        loaded
    };
    open_state(g, &loaded.manifest.settings())
}

/// The state store `settings` name: `file` (default `.roster-state/`
/// beside the manifests) or `azure-blob`, with its credentials (a
/// connection string from the environment, else the graph provider's app
/// registration). Nothing is read or written yet.
pub fn open_state(g: &Global, settings: &Tenant) -> Result<StateDir> {
    let cfg = settings.state.as_ref().map(|s| &s.value);
    let a = match cfg {
        None | Some(StateConfig::File { path: None }) => {
            return Ok(StateDir::new(g.config.join(crate::state::DEFAULT_DIR)));
        }
        Some(StateConfig::File { path: Some(p) }) => {
            return Ok(StateDir::new(super::resolve(&g.config, p)));
        }
        Some(StateConfig::AzureBlob(a)) => a,
    };
    let var = a
        .connection_string_env
        .as_deref()
        .unwrap_or(CONNECTION_STRING_ENV);
    let from_env = std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    let auth = match (from_env, &settings.provider) {
        (Some(value), _) => {
            crate::redact::secret(value.trim());
            AzureAuth::ConnectionString {
                value: value.trim().to_string(),
                from: var.to_string(),
            }
        }
        (None, Some(p)) if a.connection_string_env.is_none() => match &p.value {
            ProviderConfig::Graph(cfg) => {
                AzureAuth::App(Box::new(super::connection(g, cfg, &g.config)?))
            }
            ProviderConfig::File { .. } => return Err(no_credentials(a, var)),
        },
        _ => return Err(no_credentials(a, var)),
    };
    let store = AzureStore::open(AzureConfig {
        account: a.account.clone(),
        container: a.container.clone(),
        prefix: a.path.clone().unwrap_or_default(),
        endpoint: a.endpoint.clone(),
        auth,
    })
    .map_err(|e| Failure::new(e.to_string()))?;
    Ok(StateDir::on(Arc::new(store)))
}

fn no_credentials(a: &crate::manifest::AzureBlobConfig, var: &str) -> Failure {
    Failure::new(format!(
        "the azure-blob state store `{}/{}` has no credentials: `{var}` is not set{}\nhint: export {var}=\"DefaultEndpointsProtocol=https;AccountName={};AccountKey=…\" (the storage account's connection string), or use a `graph` provider whose app has the role `Storage Blob Data Contributor` on the container (docs/ci.md)",
        a.account,
        a.container,
        if a.connection_string_env.is_some() {
            ""
        } else {
            " and the tenant's provider is not `graph`"
        },
        a.account
    ))
}

/// Take the apply lock of `state` for `command`: the store is probed first
/// (an unreachable store fails here, before any change), then the lock is
/// waited for up to `timeout`.
pub fn take_lock(state: &StateDir, command: &str, timeout: Duration) -> Result<StateLock> {
    state.probe()?;
    let req = LockRequest {
        holder: who(),
        command: command.to_string(),
        lease: crate::state::lock::DEFAULT_LEASE,
        timeout,
    };
    let lock = state.lock(&req, |holder| {
        eprintln!(
            "waiting for the lock of {}: {holder}; giving up after {} (`--lock-timeout`)",
            state.name(),
            humantime::format_duration(timeout)
        );
    })?;
    if let Some(old) = lock.taken_over() {
        let why = if old.holder_is_gone() {
            format!("its process {} is gone", old.pid)
        } else {
            format!("its lease ran out at {}", old.expires)
        };
        eprintln!(
            "warning: took over the lock `{}` of {} (`roster {}` on `{}` since {}): {why}; the journal keeps what that run did, and this apply plans from the tenant as it is",
            old.id, old.holder, old.command, old.host, old.since
        );
    }
    Ok(lock)
}

/// How many days before an override expires the plan warns.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// What plans depend on besides manifests and tenant: the numbers in
/// quarantine now, today's date and the override expiry warning window.
pub fn context(g: &Global) -> Result<crate::desired::Context> {
    context_in(&state_dir(g)?)
}

/// [`context`] with the quarantine of `state`.
pub fn context_in(state: &StateDir) -> Result<crate::desired::Context> {
    let today = time::OffsetDateTime::now_utc().date();
    let day = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let quarantine = state.quarantine()?;
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
    state: &StateDir,
    loaded: &crate::manifest::Loaded,
    live: &crate::live::LiveState,
    plan: &crate::plan::Plan,
    force: bool,
) -> Result<crate::apply::guard::Census> {
    let census =
        crate::apply::guard::census(&loaded.manifest, live, plan.summary.users_in_scope, &now());
    if let Some(before) = state.census()?
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
pub fn save_census(state: &StateDir, census: &crate::apply::guard::Census) {
    if let Err(e) = state.save_census(census) {
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

/// An apply being recorded: its id, and the state roster last left each
/// user in (to mark drift).
pub struct Recording {
    pub id: String,
    last: std::collections::BTreeMap<String, crate::state::journal::UserState>,
}

/// Record that `plan` is about to be applied (its unfinished journal
/// entry), before the first change, so an apply killed mid-way is on
/// record. An unfinished entry left by an apply that died is settled first
/// (this run holds the lock, so no other apply runs). A journal that
/// cannot be written or read (corrupt, newer) is a warning: the apply goes
/// on, and its finished entry falls back to a file if it still cannot.
pub fn record_start(
    state: &StateDir,
    plan: &crate::plan::Plan,
    before: &crate::live::LiveState,
) -> Recording {
    let id = uuid::Uuid::new_v4().to_string();
    let settle = || -> std::result::Result<(), crate::state::StateError> {
        for dead in state.journal()?.iter().filter(|e| e.unfinished) {
            state.finish_journal(&crate::state::journal::settle(dead, before))?;
            eprintln!(
                "journal: apply {} by {} did not finish; its outcome is now recorded as found in the tenant",
                dead.id, dead.who
            );
        }
        Ok(())
    };
    let settled = settle();
    let last = state
        .journal()
        .map(|j| crate::state::journal::last_after(&j))
        .unwrap_or_default();
    let entry = crate::state::journal::unfinished(plan, before, &last, &id, &now(), &who());
    if let Err(e) = settled.and_then(|_| state.append_journal(&entry)) {
        eprintln!("warning: the journal could not be written before the apply: {e}");
    }
    Recording { id, last }
}

/// Record an apply in the journal. A journal that cannot be written (after
/// three tries, a few seconds apart) gets the entry in a local fallback
/// file, named in the output, so nothing done is unrecorded.
pub fn record_apply(
    state: &StateDir,
    recording: &Recording,
    plan: &crate::plan::Plan,
    before: &crate::live::LiveState,
    report: &crate::apply::Report,
) {
    let id = &recording.id;
    let entry =
        crate::state::journal::entry(plan, before, report, &recording.last, id, &now(), &who());
    let mut tried = state.finish_journal(&entry);
    for pause in [1, 3] {
        if tried.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_secs(pause));
        tried = state.finish_journal(&entry);
    }
    let Err(first) = tried else {
        eprintln!("journal: apply {id} recorded in {}", state.name());
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

#[derive(Debug, clap::Args)]
pub struct UnlockArgs {
    /// The ID of the lock to break (as a waiting apply prints it); without
    /// it, show the current lock and break nothing.
    pub id: Option<String>,
}

/// `roster unlock [ID]`: break the apply lock `ID` on purpose (refused when
/// the current lock has another ID); print what it broke.
pub fn unlock(g: &Global, args: &UnlockArgs) -> Result<u8> {
    let state = state_dir(g)?;
    state.probe()?;
    let Some(id) = &args.id else {
        match state.current_lock()? {
            Some((rec, _)) if rec.released.is_none() => {
                let (now, _) = crate::state::lock::stamp(Duration::ZERO);
                let live = if rec.is_live(&now) {
                    "held"
                } else {
                    "lease ran out"
                };
                println!("{} ({live}): {rec}", state.name());
                println!("break it with `roster unlock {}`", rec.id);
            }
            _ => println!("{} is not locked.", state.name()),
        }
        return Ok(0);
    };
    let broke = state.unlock(id, &who())?;
    println!("broke {broke}");
    println!(
        "what that run changed, if anything, is in the tenant but may be missing from the journal: `roster plan` shows where the tenant stands"
    );
    Ok(0)
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

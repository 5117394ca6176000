//! `roster reconcile`: keep the tenant converged between merges. Each round
//! reloads the manifests, plans, and applies when the plan has no errors,
//! is within the safety limits and the tenant is not paused; then it logs
//! one line and waits. SIGINT/SIGTERM end the loop after the step in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;

use super::plan::{load_config, now};
use super::state::{QuarantineRecorder, context_in, open_state, take_lock};
use super::{Failure, Global, Result, open_provider};
use crate::apply;

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Time between rounds (e.g. `30m`, `1h`, `90s`).
    #[arg(long, default_value = "1h", value_parser = parse_duration, conflicts_with = "watch")]
    pub interval: Duration,
    /// Run one round and exit (0 converged or applied, 1 otherwise).
    #[arg(long)]
    pub once: bool,
    /// Users per policy assignment call.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub batch_size: usize,
    /// How long a round waits while an apply holds the state store's lock
    /// or the tenant snapshot's lock (e.g. `30s`, `5m`; `0`: fail the
    /// round at once).
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = super::parse_lock_timeout)]
    pub lock_timeout: Duration,
    /// Follow directory changes: a full round at start and every
    /// `--full-every`, and between them, every `--poll`, a round of only the
    /// users the directory changed (`/users/delta`).
    #[arg(long, conflicts_with = "once")]
    pub watch: bool,
    /// With `--watch`: time between incremental rounds.
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration, requires = "watch")]
    pub poll: Duration,
    /// With `--watch`: time between full rounds (they also catch changes
    /// made on the Teams side, which the directory delta does not show).
    #[arg(long, default_value = "1h", value_name = "DURATION", value_parser = parse_duration, requires = "watch")]
    pub full_every: Duration,
    /// With `--watch`: serve Prometheus metrics on this address
    /// (`GET /metrics`), e.g. `127.0.0.1:9464`.
    #[arg(long, value_name = "ADDR", requires = "watch")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// With `--watch`: stop after this many rounds (for tests and trials).
    #[arg(long, value_name = "N", requires = "watch")]
    pub rounds: Option<u64>,
}

fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. `30m`, `1h`, `90s`"))?;
    if d.is_zero() {
        return Err("a duration here must be longer than zero".into());
    }
    Ok(d)
}

/// What one round did.
#[derive(Debug, PartialEq, Eq)]
pub enum Round {
    Converged,
    Applied { users: usize, failed: usize },
    Paused { pending: usize },
    Refused(String),
}

pub fn run(g: &Global, args: &ReconcileArgs) -> Result<u8> {
    let stop = Arc::new(AtomicBool::new(false));
    watch_signals(stop.clone());
    if args.watch {
        return super::watch::run(g, args, &stop);
    }
    loop {
        let started = Instant::now();
        let outcome = round(g, args.batch_size, args.lock_timeout);
        let line = describe(&outcome);
        println!(
            "{} reconcile {line} ({:.1}s)",
            now(),
            started.elapsed().as_secs_f64()
        );
        if args.once {
            return Ok(match outcome {
                Ok(Round::Converged | Round::Paused { .. }) => 0,
                Ok(Round::Applied { failed: 0, .. }) => 0,
                _ => 1,
            });
        }
        if sleep(args.interval, &stop) {
            println!("{} reconcile stopped by signal", now());
            return Ok(0);
        }
    }
}

/// Wait `d` in short steps so a signal ends the wait promptly; whether
/// `stop` was set.
pub(super) fn sleep(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(
            Duration::from_millis(200).min(until.saturating_duration_since(Instant::now())),
        );
    }
    stop.load(Ordering::SeqCst)
}

/// What a round did, in words.
pub(super) fn describe(outcome: &Result<Round>) -> String {
    match outcome {
        Ok(Round::Converged) => "converged: no changes".to_string(),
        Ok(Round::Applied { users, failed }) => {
            format!("applied: {users} users changed, {failed} failed")
        }
        Ok(Round::Paused { pending }) => format!(
            "paused: {pending} users pending, nothing applied (the tenant settings say `paused`)"
        ),
        Ok(Round::Refused(why)) => format!("not applied: {why}"),
        Err(f) => format!(
            "failed: {}",
            crate::redact::text(f.message.lines().next().unwrap_or_default())
        ),
    }
}

fn round(g: &Global, batch: usize, lock_timeout: Duration) -> Result<Round> {
    let (loaded, git) = load_config(g, None)?;
    let settings = loaded.manifest.settings().into_owned();
    let state = open_state(g, &settings)?;
    let _lock = take_lock(&state, "reconcile", lock_timeout)?;
    let mut provider = open_provider(g, &loaded)?;
    provider.lock(lock_timeout)?;
    // The tenant first, then the quarantine: a release recorded meanwhile
    // is then seen as held or as quarantined, never as free.
    let live = provider.fetch()?;
    let ctx = context_in(&state)?;
    let plan = super::plan::plan_live(&loaded, &live, provider.kind(), &[], git, &ctx);
    Ok(apply_plan(
        &state,
        &loaded,
        provider.as_mut(),
        &live,
        &plan,
        batch,
        true,
    )?
    .0)
}

/// Apply a round's plan when it has changes, no errors, the tenant is not
/// paused and it is within the safety limits (and, for a plan of the whole
/// tenant, `census`, the directory sanity guard); journal it. The report
/// comes back when something was applied.
pub(super) fn apply_plan(
    state: &crate::state::StateDir,
    loaded: &crate::manifest::Loaded,
    provider: &mut dyn crate::provider::Provider,
    live: &crate::live::LiveState,
    plan: &crate::plan::Plan,
    batch: usize,
    census: bool,
) -> Result<(Round, Option<apply::Report>)> {
    let settings = loaded.manifest.settings().into_owned();
    if !plan.has_errors() && !plan.has_changes() {
        return Ok((Round::Converged, None));
    }
    if settings.paused && !plan.has_errors() {
        let pending = plan.changes.len();
        return Ok((Round::Paused { pending }, None));
    }
    if let Err(r) = apply::gate::check_ready(plan, &settings.safety, false) {
        return Ok((Round::Refused(r.to_string()), None));
    }
    let census = census
        .then(|| apply::guard::census(&loaded.manifest, live, plan.summary.users_in_scope, &now()));
    if let Some(census) = &census
        && let Some(before) = state.census()?
        && let Err(r) = apply::guard::check(&before, census, &settings.safety)
    {
        return Ok((Round::Refused(r.to_string()), None));
    }
    let mut recorder = QuarantineRecorder {
        state: state.clone(),
        period: loaded.manifest.settings().numbers.quarantine,
    };
    let recording = super::state::record_start(state, plan, live);
    let report = apply::execute_recorded(plan, provider, batch, &mut |_, _| {}, &mut recorder)
        .map_err(|e| Failure::new(e.to_string()))?;
    super::state::record_apply(state, &recording, plan, live, &report);
    if let Some(census) = &census {
        super::state::save_census(state, census);
    }
    for u in report
        .users
        .iter()
        .filter(|u| u.status != apply::Status::Applied)
    {
        eprintln!(
            "{} {}: {}",
            if u.status == apply::Status::Failed {
                "failed"
            } else {
                "skipped"
            },
            u.upn,
            u.errors.join("; ")
        );
    }
    let round = Round::Applied {
        users: report.applied + report.failed + report.skipped,
        failed: report.failed + report.skipped,
    };
    Ok((round, Some(report)))
}

/// Set `stop` on SIGINT or SIGTERM (the step in flight finishes first).
fn watch_signals(stop: Arc<AtomicBool>) {
    let _ = on_own_thread("signals", async move {
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        eprintln!("signal received: finishing the step in flight, then stopping");
        stop.store(true, Ordering::SeqCst);
    });
}

/// Run `task` on a thread of its own named `name`, on a current-thread
/// tokio runtime (the thread ends at once if no runtime can be built).
pub(super) fn on_own_thread(
    name: &str,
    task: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(task);
        })?;
    Ok(())
}

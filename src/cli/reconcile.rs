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
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
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
}

fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. `30m`, `1h`, `90s`"))?;
    if d.is_zero() {
        return Err("the interval must be longer than zero".into());
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
    loop {
        let started = Instant::now();
        let outcome = round(g, args.batch_size, args.lock_timeout);
        let line = match &outcome {
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
        };
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
        // Sleep in short steps so a signal ends the wait promptly.
        let until = Instant::now() + args.interval;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(
                Duration::from_millis(200).min(until.saturating_duration_since(Instant::now())),
            );
        }
        if stop.load(Ordering::SeqCst) {
            println!("{} reconcile stopped by signal", now());
            return Ok(0);
        }
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
    if !plan.has_errors() && !plan.has_changes() {
        return Ok(Round::Converged);
    }
    if settings.paused && !plan.has_errors() {
        return Ok(Round::Paused {
            pending: plan.changes.len(),
        });
    }
    if let Err(r) = apply::gate::check_ready(&plan, &settings.safety, false) {
        return Ok(Round::Refused(r.to_string()));
    }
    let census = apply::guard::census(&loaded.manifest, &live, plan.summary.users_in_scope, &now());
    if let Some(before) = state.census()?
        && let Err(r) = apply::guard::check(&before, &census, &settings.safety)
    {
        return Ok(Round::Refused(r.to_string()));
    }
    let mut recorder = QuarantineRecorder {
        state: state.clone(),
        period: loaded.manifest.settings().numbers.quarantine,
    };
    let recording = super::state::record_start(&state, &plan, &live);
    let report = apply::execute_recorded(
        &plan,
        provider.as_mut(),
        batch,
        &mut |_, _| {},
        &mut recorder,
    )
    .map_err(|e| Failure::new(e.to_string()))?;
    super::state::record_apply(&state, &recording, &plan, &live, &report);
    super::state::save_census(&state, &census);
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
    Ok(Round::Applied {
        users: report.applied + report.failed + report.skipped,
        failed: report.failed + report.skipped,
    })
}

/// Set `stop` on SIGINT or SIGTERM (the step in flight finishes first).
fn watch_signals(stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                #[cfg(unix)]
                {
                    let mut term = match tokio::signal::unix::signal(
                        tokio::signal::unix::SignalKind::terminate(),
                    ) {
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
        });
}

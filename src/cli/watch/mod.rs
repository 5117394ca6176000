//! `roster reconcile --watch`: a full round at start and every
//! `--full-every`; between them, every `--poll`, an incremental round that
//! asks the directory what changed since the stored delta link, reads only
//! those users' Teams state, and plans and applies them alone, under the
//! same gate, safety limits, lock and journal as a full round. Number
//! allocation stands on the last full round's inventory kept current with
//! this process's own writes ([`base::Base`]); when that is in doubt (a
//! write failed, the manifests changed, the delta link expired) the next
//! round is full. The delta link and the last full round's digest are kept
//! in the state directory, so a restarted watcher resumes. Each round logs
//! one line and updates the metrics; a signal stops it between rounds.

mod base;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::metrics::{self, Metrics};
use super::plan::{load_config, now, plan_live};
use super::reconcile::{ReconcileArgs, Round, apply_plan, describe, sleep};
use super::state::{context_in, open_state, state_dir, take_lock};
use super::{Failure, Global, Result, open_provider};
use crate::manifest::Loaded;
use crate::plan::GitInfo;
use crate::provider::Provider;
use crate::provider::incremental::{IncrementalError, Traffic};
use crate::state::StateDir;
use crate::state::watch::Watch;
use base::Base;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Full,
    Delta,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Delta => "delta",
        }
    }
}

/// What a round saw and cost, filled in as it goes (also when it fails).
#[derive(Debug, Default)]
struct Stats {
    kind: Option<Kind>,
    seen: usize,
    changes: usize,
    traffic: Traffic,
}

/// What a round works from besides the tenant: the state directory (its
/// lock held for the round) and the manifests with their commit.
struct Inputs<'a> {
    state: &'a StateDir,
    loaded: &'a Loaded,
    git: Option<GitInfo>,
}

struct Watcher<'a> {
    g: &'a Global,
    args: &'a ReconcileArgs,
    base: Option<Base>,
    link: Option<String>,
    last_full: Option<Instant>,
    /// When the last full round ended (RFC 3339), for the state file.
    full_at: Option<String>,
    /// The next round must be full.
    need_full: bool,
}

pub fn run(g: &Global, args: &ReconcileArgs, stop: &AtomicBool) -> Result<u8> {
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = args.metrics_addr {
        let local = metrics::serve(addr, metrics.clone()).map_err(Failure::new)?;
        println!("{} reconcile metrics on http://{local}/metrics", now());
    }
    let stored = state_dir(g)?.watch()?;
    let mut w = Watcher {
        g,
        args,
        base: None,
        link: stored.and_then(|s| s.delta_link),
        last_full: None,
        full_at: None,
        need_full: true,
    };
    let mut rounds = 0u64;
    loop {
        let started = Instant::now();
        let mut st = Stats::default();
        let outcome = w.round(&mut st);
        let kind = st.kind.unwrap_or(Kind::Full);
        println!(
            "{} reconcile {} round: {} users seen, {} changes, {} requests, {:.1}s: {}",
            now(),
            kind.name(),
            st.seen,
            st.changes,
            st.traffic.requests,
            started.elapsed().as_secs_f64(),
            describe(&outcome)
        );
        record(&metrics, kind, &st, &outcome);
        if outcome.is_err() {
            w.need_full = true;
        }
        rounds += 1;
        if args.rounds.is_some_and(|n| rounds >= n) {
            return Ok(0);
        }
        if sleep(args.poll, stop) {
            println!("{} reconcile stopped by signal", now());
            return Ok(0);
        }
    }
}

fn record(m: &Metrics, kind: Kind, st: &Stats, outcome: &Result<Round>) {
    let add = |c: &std::sync::atomic::AtomicU64, n: u64| c.fetch_add(n, Ordering::Relaxed);
    add(
        match kind {
            Kind::Full => &m.full_rounds,
            Kind::Delta => &m.delta_rounds,
        },
        1,
    );
    add(&m.requests, st.traffic.requests);
    add(&m.throttled, st.traffic.throttled);
    let success = match outcome {
        Ok(Round::Applied { users, failed }) => {
            add(&m.changes, (users - failed) as u64);
            *failed == 0
        }
        Ok(Round::Converged | Round::Paused { .. }) => true,
        Ok(Round::Refused(_)) => false,
        Err(_) => false,
    };
    if matches!(outcome, Err(_) | Ok(Round::Applied { failed: 1.., .. })) {
        add(&m.failures, 1);
    }
    if success {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        m.last_success.store(t, Ordering::Relaxed);
    }
}

impl Watcher<'_> {
    fn round(&mut self, st: &mut Stats) -> Result<Round> {
        let (loaded, git) = load_config(self.g, None)?;
        // The store's lock for the round, as a one-shot reconcile or an
        // apply takes it: a watcher and a CI apply never change the tenant
        // at once.
        let state = open_state(self.g, &loaded.manifest.settings())?;
        let _lock = take_lock(&state, "reconcile --watch", self.args.lock_timeout)?;
        let mut provider = open_provider(self.g, &loaded)?;
        let inputs = Inputs {
            state: &state,
            loaded: &loaded,
            git,
        };
        let result = self.round_with(&inputs, provider.as_mut(), st);
        if let Some(inc) = provider.incremental() {
            st.traffic = inc.traffic();
        }
        result
    }

    fn round_with(
        &mut self,
        r: &Inputs<'_>,
        provider: &mut dyn Provider,
        st: &mut Stats,
    ) -> Result<Round> {
        provider.lock(self.args.lock_timeout)?;
        let due = self
            .last_full
            .is_none_or(|t| t.elapsed() >= self.args.full_every);
        let same_manifests = self.base.as_ref().map(|b| b.digest == r.loaded.digest());
        if self.need_full || due || same_manifests != Some(true) || self.link.is_none() {
            return self.full(r, provider, st);
        }
        self.delta(r, provider, st)
    }

    fn full(
        &mut self,
        r: &Inputs<'_>,
        provider: &mut dyn Provider,
        st: &mut Stats,
    ) -> Result<Round> {
        st.kind = Some(Kind::Full);
        // The link first: changes made during the read come again in the
        // next delta (harmless), none are missed.
        if self.link.is_none()
            && let Some(inc) = provider.incremental()
        {
            self.link = Some(inc.latest().map_err(incremental)?);
        }
        let live = provider.fetch()?;
        st.seen = live.users.len();
        let ctx = context_in(r.state)?;
        let plan = plan_live(r.loaded, &live, provider.kind(), &[], r.git.clone(), &ctx);
        st.changes = plan.summary.users_changed;
        let (round, report) = apply_plan(
            r.state,
            r.loaded,
            provider,
            &live,
            &plan,
            self.args.batch_size,
            true,
        )?;
        let mut base = Base::new(&live, plan.summary.users_in_scope, r.loaded.digest());
        // A refused full round (errors, safety limits, the census guard) is
        // repeated, never followed by incremental rounds: they would apply
        // the refused plan user by user, past the limits.
        let refused = matches!(round, Round::Refused(_));
        self.need_full = refused || !report.as_ref().is_none_or(|r| base.track(&plan, r));
        self.base = Some(base);
        self.last_full = Some(Instant::now());
        self.full_at = Some(now());
        self.save(r.state);
        Ok(round)
    }

    fn delta(
        &mut self,
        r: &Inputs<'_>,
        provider: &mut dyn Provider,
        st: &mut Stats,
    ) -> Result<Round> {
        if provider.incremental().is_none() {
            return self.full(r, provider, st);
        }
        let (Some(link), Some(inc)) = (self.link.clone(), provider.incremental()) else {
            return self.full(r, provider, st);
        };
        st.kind = Some(Kind::Delta);
        let changes = match inc.changes(&link) {
            Ok(c) => c,
            Err(IncrementalError::Expired(why)) => {
                eprintln!("{} reconcile: {why}", now());
                self.link = None;
                return self.full(r, provider, st);
            }
            Err(e) => return Err(incremental(e)),
        };
        st.seen = changes.users.len() + changes.removed.len();
        let Some(base) = self.base.as_mut() else {
            return self.full(r, provider, st);
        };
        base.forget(&changes.removed);
        if changes.users.is_empty() {
            self.link = Some(changes.link);
            self.save(r.state);
            return Ok(Round::Converged);
        }
        let ids: Vec<String> = changes.users.iter().map(|u| u.id.clone()).collect();
        let groups = !base.live.groups.is_empty();
        let teams = inc.read_users(&ids, groups).map_err(incremental)?;
        let part = Arc::new(base.part(changes.users, teams)?);
        inc.base_writes_on(part.clone());
        let ctx = context_in(r.state)?;
        let mut plan = plan_live(r.loaded, &part, provider.kind(), &ids, r.git.clone(), &ctx);
        // The safety limits weigh a change against the whole tenant.
        plan.summary.users_in_scope = base.in_scope;
        st.changes = plan.summary.users_changed;
        let (round, report) = apply_plan(
            r.state,
            r.loaded,
            provider,
            &part,
            &plan,
            self.args.batch_size,
            false,
        )?;
        if let Some(r) = &report
            && !base.track(&plan, r)
        {
            self.need_full = true;
        }
        // Users a refused or paused round did not apply come again: the
        // link moves only past rounds that did what they planned.
        if !matches!(round, Round::Refused(_) | Round::Paused { .. }) {
            self.link = Some(changes.link);
            self.save(r.state);
        }
        Ok(round)
    }

    /// Store the delta link and the last full round's digest; a failure is
    /// a warning (the next start only reads a little more).
    fn save(&self, state: &StateDir) {
        let w = Watch {
            format_version: 0,
            delta_link: self.link.clone(),
            full_round_digest: self.base.as_ref().map(|b| b.digest.clone()),
            full_round_at: self.full_at.clone(),
        };
        if let Err(e) = state.save_watch(&w) {
            eprintln!("warning: {e}");
        }
    }
}

fn incremental(e: IncrementalError) -> Failure {
    match e {
        IncrementalError::Provider(p) => Failure::from(p),
        other => Failure::new(other.to_string()),
    }
}

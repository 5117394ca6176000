//! `roster emulator`: serve a tenant snapshot over the Graph HTTP API. It
//! turns the flags into [`Options`]; the emulator itself refuses to listen
//! beyond loopback without required credentials, and this command warns
//! that it is a test server whenever it listens beyond loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{Failure, Global, Result};
use crate::emulator::{Emulator, Federated, Options};

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback by default; beyond loopback needs
    /// `--client-id` and `--client-secret-env`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Persist every acknowledged write to this snapshot file (atomically).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Accept only this client id.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Accept only this client secret, read from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
    /// Application permissions granted to the app, comma-separated
    /// (default: every permission roster needs).
    #[arg(long, value_delimiter = ',')]
    pub roles: Option<Vec<String>>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, default_value_t = 3599)]
    pub token_lifetime: u64,
    /// Answer every request this many milliseconds after it arrived (a GET
    /// is served meanwhile; a write waits first).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Graph's resource units per app per window (default: by tenant size
    /// as published, 3500 under 50 users, 5000 up to 500, 8000 above).
    #[arg(long, value_name = "N")]
    pub resource_units: Option<u32>,
    /// The resource-unit window, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub resource_window: f64,
    /// Graph's writes per app per window.
    #[arg(long, value_name = "N", default_value_t = 3000)]
    pub write_limit: u32,
    /// The write window, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 150.0)]
    pub write_window: f64,
    /// No Graph limits (resource units, writes) at all.
    #[arg(long)]
    pub no_limits: bool,
    /// A "chaos" token bucket on top: requests per second per client
    /// before 429s (0: none).
    #[arg(long, default_value_t = 0.0)]
    pub throttle_rps: f64,
    /// Share of requests that fail with 503 or 504 (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Seed of the fault injection.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How long a number operation stays running, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub operation_delay_ms: u64,
    /// Most users one `userAssignments/assign` call may carry.
    #[arg(long, default_value_t = 1000)]
    pub max_assign_batch: usize,
    /// Single-entity GETs return `{"value": {…}}`, as the docs' examples
    /// show, instead of the bare entity.
    #[arg(long, conflicts_with = "unwrapped_entities")]
    pub wrapped_entities: bool,
    /// The bare entity for single-entity GETs (the default; kept so that
    /// existing command lines still work).
    #[arg(long, hide = true)]
    pub unwrapped_entities: bool,
    /// `getPolicyId` answers 404 for an unknown name instead of an empty list.
    #[arg(long)]
    pub policy_not_found_404: bool,
    /// Accept federated assertions (workload identity federation) from
    /// this issuer (with `--federated-subject`; loopback only: their
    /// signatures are not checked).
    #[arg(long, value_name = "URL", requires = "federated_subject")]
    pub federated_issuer: Option<String>,
    /// The subject federated assertions must carry, e.g.
    /// `repo:OWNER/REPO:ref:refs/heads/main`.
    #[arg(long, value_name = "SUB", requires = "federated_issuer")]
    pub federated_subject: Option<String>,
    /// The audience federated assertions must carry.
    #[arg(long, value_name = "AUD", default_value = crate::emulator::FEDERATED_AUDIENCE)]
    pub federated_audience: String,
}

pub fn run(g: &Global, args: &EmulatorArgs) -> Result<u8> {
    let Some(tenant) = &g.tenant else {
        return Err(Failure::new(
            "the emulator serves a tenant snapshot: pass `--tenant FILE`",
        ));
    };
    if !(0.0..=1.0).contains(&args.fault_rate) {
        return Err(Failure::new(
            "`--fault-rate` is a share from 0 to 1, e.g. 0.1",
        ));
    }
    let mut o = Options::new(tenant.clone());
    o.listen = args.listen;
    o.state_file = args.state.clone();
    o.client_id = args.client_id.clone();
    if let Some(var) = &args.client_secret_env {
        let secret = std::env::var(var)
            .map_err(|_| Failure::new(format!("the environment variable `{var}` is not set")))?;
        crate::redact::secret(&secret);
        o.client_secret = Some(secret);
    }
    if let Some(r) = &args.roles {
        o.roles = r
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    o.token_lifetime = Duration::from_secs(args.token_lifetime.max(1));
    o.latency = Duration::from_millis(args.latency_ms);
    let window = |name: &str, secs: f64| {
        if secs.is_finite() && secs > 0.0 {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(Failure::new(format!(
                "`{name}` is a number of seconds above 0, e.g. 10"
            )))
        }
    };
    o.limits = if args.no_limits {
        None
    } else {
        Some(crate::emulator::throttle::Limits {
            resource_units: args.resource_units.map(|n| n.max(1)),
            resource_window: window("--resource-window", args.resource_window)?,
            writes: args.write_limit.max(1),
            write_window: window("--write-window", args.write_window)?,
        })
    };
    o.throttle_rps = args.throttle_rps;
    o.fault_rate = args.fault_rate;
    o.seed = args.seed;
    o.operation_delay = Duration::from_millis(args.operation_delay_ms);
    o.api.max_assign_batch = args.max_assign_batch.max(1);
    o.api.wrap_single = args.wrapped_entities;
    o.api.policy_404 = args.policy_not_found_404;
    if let (Some(issuer), Some(subject)) = (&args.federated_issuer, &args.federated_subject) {
        o.federated = Some(Federated {
            issuer: issuer.clone(),
            subject: subject.clone(),
            audience: args.federated_audience.clone(),
        });
    }
    let emu = Emulator::new(o)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async move {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        emu.serve(shutdown, |addr| {
            if !addr.ip().is_loopback() {
                eprintln!("warning: the roster emulator is a test server, not Microsoft Graph: it listens beyond loopback on {addr}, over plain HTTP, with a fake tenant; do not expose it to networks you do not trust");
            }
            eprintln!("roster emulator listening on http://{addr} (Graph at http://{addr}/v1.0, token at http://{addr}/{{tenant}}/oauth2/v2.0/token)");
        })
        .await
    })?;
    Ok(0)
}

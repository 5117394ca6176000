//! The command line: clap definitions, resolved into settings before any
//! work starts, and the mapping of failures to messages and exit codes.

mod emulator;
mod explain;
mod federation;
mod fmt;
mod history;
mod import;
mod metrics;
mod plan;
mod reconcile;
mod revert;
mod state;
mod test;
mod validate;
mod watch;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::manifest::{self, Loaded, ProviderConfig};
use crate::plan::render::Format;
use crate::provider::Provider;
use crate::provider::file::FileProvider;

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    // The package version and the commit it was built from (build.rs).
    version = env!("ROSTER_VERSION"),
    about = "Microsoft Teams provisioning as code: personas, number ranges and rules in git; plan and apply.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The config directory holding the manifests.
    #[arg(
        short = 'C',
        long = "config",
        global = true,
        default_value = ".",
        value_name = "DIR"
    )]
    pub config: PathBuf,
    /// Use this tenant snapshot as the live tenant (file provider), whatever
    /// the tenant settings say.
    #[arg(long, global = true, value_name = "FILE")]
    pub tenant: Option<PathBuf>,
    /// Point the graph provider at another base URL (the emulator, a proxy).
    #[arg(long, global = true, value_name = "URL")]
    pub graph_endpoint: Option<String>,
    /// Log format on stderr (filter with RUST_LOG).
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check every manifest, offline.
    Validate,
    /// Run the manifests' rule tests offline: exit 1 when one fails.
    Test,
    /// What roster changed: the apply journal of the state directory.
    History(history::HistoryArgs),
    /// Break the state store's apply lock `ID` on purpose (a run that died
    /// and whose lease has not run out); without `ID`, show the lock.
    Unlock(state::UnlockArgs),
    /// Read the live tenant, compute the desired state, print the plan.
    Plan(PlanArgs),
    /// Describe the live tenant as manifests (ranges, personas, rules,
    /// overrides, tests) in a new directory.
    Import(import::ImportArgs),
    /// Apply a saved plan, or plan and apply.
    Apply(ApplyArgs),
    /// Plan the undoing of an apply (from the journal): each user back to
    /// its state before, unless changed since.
    Revert(revert::RevertArgs),
    /// Render a saved plan.
    Show {
        /// A plan saved with `roster plan --out FILE`.
        plan: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Hide `names`, `numbers` or `names,numbers` (as `plan --redact`).
        #[arg(long, value_name = "WHAT", value_parser = crate::plan::redact::Redact::parse, default_value = "")]
        redact: crate::plan::redact::Redact,
    },
    /// Explain one user: each rule tried, the persona, desired versus live.
    Explain {
        /// User principal name or object id.
        user: String,
    },
    /// Write the live tenant as a tenant snapshot file.
    Snapshot {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Serve a tenant snapshot over the Microsoft Graph HTTP API.
    Emulator(emulator::EmulatorArgs),
    /// Loop: plan, and apply when the plan is safe (`--once` for one round).
    Reconcile(reconcile::ReconcileArgs),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
    /// Format manifests canonically (`--check`: show a diff, change nothing).
    Fmt(fmt::FmtArgs),
    /// Write the JSON Schemas of TOML manifests and of the plan JSON.
    Schema {
        /// Write `manifest.schema.json` and `plan.schema.json` into DIR
        /// instead of printing the manifest schema.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also save the plan as JSON for a later `roster apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 for no changes, 2 for changes, 1 for errors.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Limit the plan to these users (UPN or object id); repeatable.
    #[arg(long = "user", value_name = "UPN")]
    pub users: Vec<String>,
    /// Plan the manifests as they are at this git revision (no checkout).
    #[arg(long = "ref", value_name = "REV")]
    pub reference: Option<String>,
    /// Also plan the manifests at this git revision against the same live
    /// state, and mark each change as caused by this revision range
    /// (`change`) or pending already at REV (`drift`).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Hide people in what is shown (not in `--out`): `names`, `numbers` or
    /// `names,numbers` become stable short hashes, keyed with
    /// `ROSTER_REDACT_KEY` (else the tenant name).
    #[arg(long, value_name = "WHAT", value_parser = crate::plan::redact::Redact::parse, default_value = "")]
    pub redact: crate::plan::redact::Redact,
}

/// The key of `--redact` hashes.
pub fn redact_key(tenant: &str) -> String {
    std::env::var("ROSTER_REDACT_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| tenant.to_string())
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `roster plan --out FILE`; without it, plan now.
    pub plan: Option<PathBuf>,
    /// Apply without asking (needed when not on a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Apply even when the plan is over the safety limits.
    #[arg(long)]
    pub force: bool,
    /// Write the apply report as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Users per policy assignment call.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub batch_size: usize,
    /// Limit planning to these users (without a saved plan); repeatable.
    #[arg(long = "user", value_name = "UPN")]
    pub users: Vec<String>,
    /// How long to wait while another apply holds the state store's lock
    /// or the tenant snapshot's lock (e.g. `30s`, `5m`; `0`: fail at once).
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_lock_timeout)]
    pub lock_timeout: std::time::Duration,
    /// The plan a reviewer saw (the pull request's saved plan): changes
    /// that are neither in it nor drift are refused unless `--force`.
    #[arg(long, value_name = "PLAN", conflicts_with = "plan")]
    pub reviewed: Option<PathBuf>,
    /// Mark each change as caused by the manifests' change since REV or as
    /// drift pending before it (as `plan --base`); with `--reviewed`,
    /// drift is applied without review.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
}

/// A `--lock-timeout`: a humantime duration, zero allowed.
pub fn parse_lock_timeout(s: &str) -> std::result::Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. `0`, `30s`, `5m`"))
}

/// A failure: the message (already explaining what and how to fix) and the
/// exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::new(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors exit 1, not clap's 2: with `--detailed-exitcode`,
            // 2 means "changes".
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    init_logging(cli.global.log_format);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {}", crate::redact::text(&f.message));
            ExitCode::from(f.code)
        }
    }
}

/// Logs on stderr, every line masked by [`crate::redact`].
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::redact::MakeStderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Run a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let g = &cli.global;
    match &cli.command {
        Command::Validate => validate::validate(g),
        Command::Test => test::test(g),
        Command::History(args) => history::history(g, args),
        Command::Unlock(args) => state::unlock(g, args),
        Command::Schema { out } => validate::schema(out.as_deref()),
        Command::Plan(args) => plan::plan(g, args),
        Command::Import(args) => import::run(g, args),
        Command::Apply(args) => plan::apply(g, args),
        Command::Revert(args) => revert::revert(g, args),
        Command::Show {
            plan: path,
            format,
            redact,
        } => plan::show(path, *format, *redact),
        Command::Explain { user } => explain::explain(g, user),
        Command::Snapshot { out } => snapshot(g, out),
        Command::Emulator(args) => emulator::run(g, args),
        Command::Fmt(args) => fmt::run(g, args),
        Command::Reconcile(args) => reconcile::run(g, args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "roster", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| Failure::new(format!("cannot write the man page: {e}")))?;
            Ok(0)
        }
    }
}

/// Colour on stdout only for a terminal without `NO_COLOR`.
pub fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Load the manifests; print diagnostics to stderr; fail on errors.
pub fn load_valid(g: &Global) -> Result<Loaded> {
    checked(crate::config_dir::load(&g.config)?, "the manifests")
}

/// Print the diagnostics of loaded manifests to stderr; fail on errors.
/// `what` names them in the message (`the manifests at `main``).
pub fn checked(loaded: Loaded, what: &str) -> Result<Loaded> {
    if !loaded.diagnostics.items.is_empty() {
        eprint!(
            "{}",
            loaded.diagnostics.render(&loaded.sources, stderr_color())
        );
    }
    if loaded.has_errors() {
        return Err(Failure::new(format!(
            "{what} have errors ({}); fix them and run again (`roster validate` lists them)",
            manifest::diag::count_line(
                loaded.diagnostics.error_count(),
                loaded.diagnostics.warning_count()
            )
        )));
    }
    Ok(loaded)
}

/// The provider the flags and tenant settings name.
pub fn open_provider(g: &Global, loaded: &Loaded) -> Result<Box<dyn Provider>> {
    if let Some(path) = &g.tenant {
        return Ok(Box::new(FileProvider::new(path)));
    }
    let settings = loaded.manifest.settings();
    match settings.provider.as_ref().map(|p| &p.value) {
        Some(ProviderConfig::File { path }) => {
            Ok(Box::new(FileProvider::new(resolve(&g.config, path))))
        }
        Some(ProviderConfig::Graph(cfg)) => {
            let conn = connection(g, cfg, &g.config)?;
            let wanted = crate::provider::graph::Wanted::from_manifest(&loaded.manifest);
            let provider = crate::provider::graph::GraphProvider::new(conn, wanted)?
                .with_progress(std::io::stderr().is_terminal());
            Ok(Box::new(provider))
        }
        None => Err(Failure::new(
            "no live tenant: the tenant settings name no provider\n\
             hint: pass `--tenant FILE` (a tenant snapshot), or add `provider \"file\" path=\"tenant.json\"` to the `tenant` item",
        )),
    }
}

/// The Graph connection the tenant settings describe. The secret comes
/// from the environment variable or file they name, never from a manifest.
pub fn connection(
    g: &Global,
    cfg: &manifest::GraphConfig,
    base: &Path,
) -> Result<crate::provider::graph::Connection> {
    use crate::provider::graph::{
        Connection, Credential, DEFAULT_AUTHORITY, DEFAULT_ENDPOINT, Secret, Settings, transport,
    };
    if cfg.tenant_id.trim().is_empty() || cfg.client_id.trim().is_empty() {
        return Err(Failure::new(
            "the `graph` provider needs `tenant-id` and `client-id`\nhint: `provider \"graph\" tenant-id=\"…\" client-id=\"…\" client-secret-env=\"ROSTER_CLIENT_SECRET\"`",
        ));
    }
    let (endpoint, endpoint_origin) = match (&g.graph_endpoint, &cfg.endpoint) {
        (Some(e), _) => (e.clone(), "`--graph-endpoint`"),
        (None, Some(e)) => (
            e.clone(),
            "the `endpoint` of the graph provider in the tenant settings",
        ),
        (None, None) => (DEFAULT_ENDPOINT.to_string(), "the default endpoint"),
    };
    // The emulator serves both: with only an endpoint, it is the authority too.
    let authority = cfg.authority.clone().unwrap_or_else(|| {
        if endpoint == DEFAULT_ENDPOINT {
            DEFAULT_AUTHORITY.to_string()
        } else {
            endpoint.clone()
        }
    });
    // Credentials travel only over https or to loopback; refused before
    // the secret is read or anything is resolved or connected.
    transport::check(&endpoint, endpoint_origin)?;
    if cfg.authority.is_some() {
        transport::check(
            &authority,
            "the `authority` of the graph provider in the tenant settings",
        )?;
    }
    let credential = if let Some(federated) = federation::credential(cfg, base)? {
        federated
    } else if let (Some(cert), Some(key)) = (&cfg.certificate_file, &cfg.private_key_file) {
        let cert = resolve(base, cert);
        let key = resolve(base, key);
        Credential::certificate(&cert.to_string_lossy(), &key.to_string_lossy())?
    } else if let Some(var) = &cfg.client_secret_env {
        match std::env::var(var) {
            Ok(s) if !s.trim().is_empty() => Credential::Secret(Secret::new(s.trim())),
            _ => {
                return Err(Failure::new(format!(
                    "the environment variable `{var}` that should hold the client secret is not set\nhint: export {var}=… (in CI, from a repository secret)"
                )));
            }
        }
    } else if let Some(file) = &cfg.client_secret_file {
        let path = resolve(base, file);
        let s = std::fs::read_to_string(&path).map_err(|e| {
            Failure::new(format!(
                "cannot read the client secret file `{}`: {e}",
                path.display()
            ))
        })?;
        Credential::Secret(Secret::new(s.trim()))
    } else {
        return Err(Failure::new(
            "the `graph` provider names no credential\nhint: add `federated=\"auto\"` (workload identity federation in CI), `client-secret-env=\"VAR\"`, `client-secret-file=\"…\"`, or `certificate-file=\"…\" private-key-file=\"…\"`",
        ));
    };
    Ok(Connection {
        tenant_id: cfg.tenant_id.clone(),
        client_id: cfg.client_id.clone(),
        credential,
        endpoint,
        authority,
        settings: Settings::default(),
    })
}

/// `roster snapshot --out FILE`.
fn snapshot(g: &Global, out: &Path) -> Result<u8> {
    let loaded = load_valid(g)?;
    let mut provider = open_provider(g, &loaded)?;
    let live = provider.fetch()?;
    let snap = crate::snapshot::from_live(&live);
    let mut text = serde_json::to_string_pretty(&snap).map_err(|e| Failure::new(e.to_string()))?;
    text.push('\n');
    write_file(out, &text)?;
    eprintln!(
        "wrote {} users, {} groups, {} numbers to {}",
        snap.users.len(),
        snap.groups.len(),
        snap.number_assignments.len(),
        out.display()
    );
    Ok(0)
}

fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The tenant snapshot file this run treats as the live tenant, if any.
pub fn snapshot_path(g: &Global, loaded: &Loaded) -> Option<PathBuf> {
    if let Some(path) = &g.tenant {
        return Some(path.clone());
    }
    match loaded
        .manifest
        .settings()
        .provider
        .as_ref()
        .map(|p| &p.value)
    {
        Some(ProviderConfig::File { path }) => Some(resolve(&g.config, path)),
        _ => None,
    }
}

/// Refuse to write an output (`what`: `--out`, `--report`) over the live
/// tenant snapshot or a manifest of the config directory: a typo there
/// would destroy the tenant's state or the config. Also checks, before
/// anything is changed, that the file can be written at all.
pub fn guard_output(g: &Global, loaded: &Loaded, path: &Path, what: &str) -> Result<()> {
    let state = g.config.join(crate::state::DEFAULT_DIR);
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if parent.is_some_and(|p| crate::files::same_file(p, &state)) {
        return Err(Failure::new(format!(
            "refusing to write {what} `{}`: it is inside roster's state directory\nhint: write it to another folder",
            path.display()
        )));
    }
    if let Some(snapshot) = snapshot_path(g, loaded)
        && crate::files::same_file(path, &snapshot)
    {
        return Err(Failure::new(format!(
            "refusing to write {what} `{}`: it is the live tenant snapshot\nhint: write it to another file",
            path.display()
        )));
    }
    if let Some(f) = loaded
        .sources
        .files
        .iter()
        .find(|f| crate::files::same_file(path, &g.config.join(&f.path)))
    {
        return Err(Failure::new(format!(
            "refusing to write {what} `{}`: it is the manifest `{}` of the config directory\nhint: write it outside the manifests (for example `plan.json` beside them)",
            path.display(),
            f.path
        )));
    }
    crate::files::check_writable(path).map_err(|e| {
        Failure::new(format!(
            "cannot write {what} `{}`: {e}\nhint: name a file in a folder that exists and that you may write",
            path.display()
        ))
    })
}

/// Write a file atomically (plans, reports, schemas).
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    crate::files::write_atomic(path, text.as_bytes(), |_| Ok(()))
        .map_err(|e| Failure::new(format!("cannot write `{}`: {e}", path.display())))
}

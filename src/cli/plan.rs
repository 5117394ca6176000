//! `roster plan`, `roster apply` and `roster show`.

use std::io::{BufRead, IsTerminal, Write as _};
use std::path::Path;

use super::{
    ApplyArgs, Failure, Global, PlanArgs, Result, checked, guard_output, load_valid, open_provider,
    redact_key, stdout_color, write_file,
};
use crate::apply;
use crate::gitops::Git;
use crate::live::LiveState;
use crate::manifest::{self, Loaded};
use crate::plan::redact::Redact;
use crate::plan::render::{Format, render, render_redacted};
use crate::plan::{self, Meta, Plan, TenantInfo};
use crate::provider::Provider;

use super::state::{
    QuarantineRecorder, context, context_in, guard_directory, open_state, save_census, take_lock,
};

/// RFC 3339 UTC time, to the second.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The commit the working tree is at, when the config is in git.
fn git_head(dir: &Path) -> Result<Option<plan::GitInfo>> {
    match Git::discover(dir)? {
        Some(g) => Ok(g.head()?),
        None => Ok(None),
    }
}

/// Plan loaded manifests against a live state already fetched. Pure but
/// for the clock.
pub fn plan_live(
    loaded: &Loaded,
    live: &LiveState,
    provider: &str,
    users: &[String],
    git: Option<plan::GitInfo>,
    ctx: &crate::desired::Context,
) -> Plan {
    let desired = crate::desired::compute_with(&loaded.manifest, live, ctx);
    plan::diff(&desired, live, meta(loaded, provider, users, git, now()))
}

/// What a plan of `loaded` through `provider`, limited to `users`, records
/// besides its changes.
pub(super) fn meta(
    loaded: &Loaded,
    provider: &str,
    users: &[String],
    git: Option<plan::GitInfo>,
    created_at: String,
) -> Meta {
    Meta {
        created_at,
        digest: loaded.digest(),
        git,
        tenant: TenantInfo {
            name: loaded.manifest.settings().name.clone(),
            provider: provider.to_string(),
        },
        limit: users.to_vec(),
    }
}

/// The manifests of this run: the working tree, or git at `--ref`.
pub fn load_config(g: &Global, rev: Option<&str>) -> Result<(Loaded, Option<plan::GitInfo>)> {
    match rev {
        Some(rev) => {
            let git = Git::open(&g.config)?;
            let (sources, info) = git.sources_at(rev)?;
            let what = format!("the manifests at `{rev}`");
            let loaded = checked(manifest::parse(sources), &what)?;
            super::test::require_passing(&loaded, &what)?;
            Ok((loaded, Some(info)))
        }
        None => {
            let loaded = load_valid(g)?;
            super::test::require_passing(&loaded, "the manifests")?;
            let info = git_head(&g.config)?;
            Ok((loaded, info))
        }
    }
}

pub fn plan(g: &Global, args: &PlanArgs) -> Result<u8> {
    let (loaded, git) = load_config(g, args.reference.as_deref())?;
    if let Some(out) = &args.out {
        guard_output(g, &loaded, out, "the plan")?;
    }
    let mut provider = open_provider(g, &loaded)?;
    let live = provider.fetch()?;
    let plan = plan_marked(
        g,
        &loaded,
        &live,
        provider.kind(),
        &args.users,
        git,
        args.base.as_deref(),
    )?;
    save_and_print(&plan, args.out.as_deref(), "plan", args.format, args.redact)?;
    let code = if plan.has_errors() {
        1
    } else if args.detailed_exitcode && plan.has_changes() {
        2
    } else {
        0
    };
    // The process ends next: freeing a large tenant's millions of small
    // allocations one by one would take as long as building them.
    std::mem::forget((plan, live, loaded, provider));
    Ok(code)
}

/// Save `plan` to `out` when given (`what` names it in the message), then
/// print it in `format`, redacted as `redact` says.
pub(super) fn save_and_print(
    plan: &Plan,
    out: Option<&Path>,
    what: &str,
    format: Format,
    redact: Redact,
) -> Result<()> {
    let mut saved = None;
    if let Some(out) = out {
        let json = plan.to_json();
        write_file(out, &json)?;
        eprintln!(
            "{what} saved to {}; apply it with `roster apply {}`",
            out.display(),
            out.display()
        );
        saved = Some(json);
    }
    match saved {
        // The JSON view, unredacted, is what was saved: not serialised twice.
        Some(json) if format == Format::Json && !redact.any() => print!("{json}"),
        _ => {
            let key = redact_key(&plan.tenant.name);
            print!(
                "{}",
                render_redacted(plan, format, stdout_color(), redact, &key)
            );
        }
    }
    Ok(())
}

/// The plan now, with the number quarantine held back and, given a `base`
/// revision, every change marked as caused by the manifests' change since
/// it or as drift.
fn plan_marked(
    g: &Global,
    loaded: &Loaded,
    live: &LiveState,
    provider: &str,
    users: &[String],
    git: Option<plan::GitInfo>,
    base: Option<&str>,
) -> Result<Plan> {
    let ctx = context(g)?;
    let mut plan = plan_live(loaded, live, provider, users, git, &ctx);
    if let Some(base) = base {
        mark_base(g, &mut plan, base, live, provider, &ctx)?;
    }
    Ok(plan)
}

/// Mark every change of `plan` as caused by the manifests' change since
/// `base` or as drift already pending there.
fn mark_base(
    g: &Global,
    plan: &mut Plan,
    base: &str,
    live: &LiveState,
    provider: &str,
    ctx: &crate::desired::Context,
) -> Result<()> {
    let (sources, _) = Git::open(&g.config)?.sources_at(base)?;
    let base_loaded = manifest::parse(sources);
    if base_loaded.has_errors() {
        eprintln!(
            "warning: the manifests at `{base}` have errors, so nothing can be pending there: every change is marked as caused by this revision range"
        );
        for c in &mut plan.changes {
            c.cause = Some(plan::Cause::Change);
        }
    } else {
        let users = plan.limit.users.clone();
        let base_plan = plan_live(&base_loaded, live, provider, &users, None, ctx);
        plan::mark_causes(plan, &base_plan);
    }
    Ok(())
}

pub fn show(path: &Path, format: Format, redact: Redact) -> Result<u8> {
    save_and_print(&read_plan(path)?, None, "plan", format, redact)?;
    Ok(0)
}

/// Compare the plan with the reviewed one, print how it compares, and
/// refuse what nobody reviewed (unless `force`).
fn check_reviewed(plan: &Plan, path: &Path, force: bool) -> Result<()> {
    let reviewed = read_plan(path)?;
    if reviewed.tenant != plan.tenant {
        return Err(Failure::new(format!(
            "refusing to apply: the reviewed plan `{}` is for tenant `{}` ({} provider), not `{}` ({} provider)\nhint: pass the plan the pull request showed for this tenant",
            path.display(),
            reviewed.tenant.name,
            reviewed.tenant.provider,
            plan.tenant.name,
            plan.tenant.provider
        )));
    }
    let review = apply::gate::review(plan, &reviewed);
    println!(
        "\nCompared with the reviewed plan `{}`: {} change{} as reviewed, {} drift correction{}, {} not reviewed, {} reviewed change{} no longer needed.",
        path.display(),
        review.as_reviewed,
        if review.as_reviewed == 1 { "" } else { "s" },
        review.drift.len(),
        if review.drift.len() == 1 { "" } else { "s" },
        review.unreviewed.len(),
        review.dropped.len(),
        if review.dropped.len() == 1 { "" } else { "s" },
    );
    for (who, why) in &review.unreviewed {
        println!("  not reviewed: {who}: {why}");
    }
    for who in &review.drift {
        println!("  drift (not in the reviewed plan): {who}");
    }
    for who in &review.dropped {
        println!("  reviewed but no longer needed: {who}");
    }
    if force && !review.unreviewed.is_empty() {
        eprintln!("warning: applying changes nobody reviewed, because of --force");
    }
    apply::gate::check_reviewed(&review, force)
        .map_err(|r| Failure::new(format!("refusing to apply: {r}\nhint: {}", r.hint())))
}

fn read_plan(path: &Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("cannot read plan `{}`: {e}", path.display())))?;
    Ok(Plan::from_json(&text)?)
}

pub fn apply(g: &Global, args: &ApplyArgs) -> Result<u8> {
    let (loaded, git) = load_config(g, None)?;
    if let Some(report) = &args.report {
        guard_output(g, &loaded, report, "the report")?;
    }
    // The state store first: one that cannot be used fails the apply
    // before anything changes, and its lock keeps other applies out.
    let state = open_state(g, &loaded.manifest.settings())?;
    let lock = take_lock(&state, "apply", args.lock_timeout)?;
    let mut provider = open_provider(g, &loaded)?;
    provider.lock(args.lock_timeout)?;
    let (plan, live) = match &args.plan {
        Some(path) => {
            if !args.users.is_empty() {
                return Err(Failure::new(
                    "`--user` limits planning; a saved plan already records its limit\nhint: drop `--user`, or plan again with it",
                ));
            }
            let plan = read_plan(path)?;
            let refused = |r: apply::Refusal| {
                let hint = match (&plan.revert_of, &r) {
                    (
                        Some(id),
                        apply::Refusal::Stale { .. } | apply::Refusal::NotTheRevert { .. },
                    ) => {
                        format!("run `roster revert {id} --out FILE` again and review it")
                    }
                    _ => r.hint().to_string(),
                };
                Failure::new(format!(
                    "refusing to apply `{}`: {r}\nhint: {hint}",
                    path.display(),
                ))
            };
            let settings = loaded.manifest.settings();
            match &plan.revert_of {
                // A revert does not depend on the manifests: it is checked
                // against the journal and the live tenant.
                Some(id) => {
                    apply::gate::check_tenant(&plan, &settings.name, provider.kind())
                        .map_err(refused)?;
                    let entry = super::revert::find_entry(g, id)?;
                    provider.resolve_policies(&apply::revert::policies(&entry));
                    let live = provider.fetch()?;
                    let fresh = super::revert::revert_now(
                        g,
                        &loaded,
                        &live,
                        &entry,
                        provider.kind(),
                        &plan.limit.users,
                        None,
                        String::new(),
                    )?;
                    apply::gate::check_revert(&plan, &fresh, &live).map_err(refused)?;
                    (plan, live)
                }
                None => {
                    apply::gate::check_origin(
                        &plan,
                        &loaded.digest(),
                        &settings.name,
                        provider.kind(),
                    )
                    .map_err(refused)?;
                    let live = provider.fetch()?;
                    apply::gate::check_live(&plan, &loaded.manifest, &live, &context_in(&state)?)
                        .map_err(refused)?;
                    (plan, live)
                }
            }
        }
        None => {
            let live = provider.fetch()?;
            let plan = plan_marked(
                g,
                &loaded,
                &live,
                provider.kind(),
                &args.users,
                git,
                args.base.as_deref(),
            )?;
            print!("{}", render(&plan, Format::Text, stdout_color()));
            if let Some(path) = &args.reviewed {
                check_reviewed(&plan, path, args.force)?;
            }
            (plan, live)
        }
    };
    if !plan.has_errors() && !plan.has_changes() {
        eprintln!("Nothing to apply.");
        return Ok(0);
    }
    match apply::gate::check_ready(&plan, &loaded.manifest.settings().safety, args.force) {
        Ok(None) => {}
        Ok(Some(v)) => {
            eprintln!("warning: over the safety limits, applying because of --force: {v}")
        }
        Err(r) => {
            return Err(Failure::new(format!(
                "refusing to apply: {r}\nhint: {}",
                r.hint()
            )));
        }
    }
    // A revert does not act on the directory's attributes: the guard is
    // for the rules, and the last census stays the baseline.
    let census = match plan.revert_of {
        None => Some(guard_directory(&state, &loaded, &live, &plan, args.force)?),
        Some(_) => None,
    };
    if args.plan.is_none() && !args.auto_approve && !confirm()? {
        eprintln!("Apply cancelled.");
        return Ok(1);
    }
    let mut recorder = QuarantineRecorder {
        state: state.clone(),
        period: loaded.manifest.settings().numbers.quarantine,
    };
    let recording = super::state::record_start(&state, &plan, &live);
    let report = run_apply(&plan, provider.as_mut(), args.batch_size, &mut recorder)?;
    super::state::record_apply(&state, &recording, &plan, &live, &report);
    if let Some(census) = &census {
        save_census(&state, census);
    }
    drop(lock);
    if let Some(path) = &args.report {
        let mut json = serde_json::to_string_pretty(&report).unwrap_or_default();
        json.push('\n');
        write_file(path, &json)?;
    }
    for u in report
        .users
        .iter()
        .filter(|u| u.status != apply::Status::Applied)
    {
        let why = if u.errors.is_empty() {
            "skipped: an earlier step for this user failed".to_string()
        } else {
            u.errors.join("; ")
        };
        eprintln!(
            "{} {}: {why}",
            if u.status == apply::Status::Failed {
                "failed"
            } else {
                "skipped"
            },
            u.upn
        );
    }
    println!(
        "Apply complete: {} applied, {} failed, {} skipped.",
        report.applied, report.failed, report.skipped
    );
    if plan.revert_of.is_some() {
        println!("{}", crate::plan::render::REVERT_NOTE);
    }
    Ok(if report.ok() { 0 } else { 1 })
}

/// Ask `yes` on a terminal; elsewhere `--auto-approve` is required.
fn confirm() -> Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(
            "refusing to apply without approval: not on a terminal\nhint: review the plan, then pass `--auto-approve` (or apply a saved plan)",
        ));
    }
    eprint!("\nDo you want to apply these changes? Only `yes` is accepted: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

pub fn run_apply(
    plan: &Plan,
    provider: &mut dyn Provider,
    batch: usize,
    recorder: &mut dyn apply::Recorder,
) -> Result<apply::Report> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} writes, {per_sec}, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let mut progress = |done: usize, total: usize| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    };
    let report = apply::execute_recorded(plan, provider, batch, &mut progress, recorder);
    let report = report.map_err(|e| Failure::new(e.to_string()))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(report)
}

//! `roster import --out DIR`: read the live tenant once (the provider
//! `plan` uses), describe it as manifests ([`crate::import`]) and write them
//! into a new directory: first into a hidden folder beside it, then renamed
//! into place, so a failed run leaves nothing half-written. Refuses a DIR
//! that exists and is not empty (without `--force`) or lies inside the
//! config directory, and never replaces the config directory or a folder
//! holding it.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{Failure, Global, Result, checked, open_provider, snapshot_path};
use crate::import::{self, Format, Options, Report};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The directory to write the manifests into (created; it must not
    /// exist or be empty, unless `--force`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The manifest format to write.
    #[arg(long, value_enum, default_value = "kdl")]
    pub format: Format,
    /// Users a bundle of policies needs to become a persona (default: 0.5%
    /// of the users described, at least 5).
    #[arg(long, value_name = "N")]
    pub min_persona_users: Option<usize>,
    /// Replace DIR when it exists and is not empty.
    #[arg(long)]
    pub force: bool,
}

pub fn run(g: &Global, args: &ImportArgs) -> Result<u8> {
    // With `--tenant`, a folder without manifests is fine: no settings.
    let loaded = match crate::config_dir::load(&g.config) {
        Err(crate::config_dir::LoadError::Empty { .. }) if g.tenant.is_some() => {
            crate::manifest::parse(crate::manifest::Sources::default())
        }
        other => checked(other?, "the manifests")?,
    };
    check_out(g, &args.out, args.force, !loaded.sources.files.is_empty())?;
    let mut provider = open_provider(g, &loaded)?;
    provider.read_all_groups();
    let live = provider.fetch()?;
    let opts = Options {
        format: args.format,
        min_persona_users: args.min_persona_users,
    };
    let imported = import::import(&live, loaded.manifest.tenant.as_ref(), &opts)
        .map_err(|e| Failure::new(e.to_string()))?;
    write_dir(&args.out, &imported.files)?;
    print!(
        "{}",
        summary(&imported.report, &args.out, imported.files.len())
    );
    if let Some(snapshot) = snapshot_path(g, &loaded)
        && g.tenant.is_none()
        && let Some(crate::manifest::ProviderConfig::File { path }) = loaded
            .manifest
            .settings()
            .provider
            .as_ref()
            .map(|p| &p.value)
        && Path::new(path).is_relative()
        && !args.out.join(path).exists()
    {
        eprintln!(
            "note: the tenant settings read the snapshot `{path}` relative to the config directory; `{}` has none\nhint: copy `{}` there, or plan with `--tenant FILE`",
            args.out.display(),
            snapshot.display()
        );
    }
    // Freeing a large tenant's many small allocations takes as long as
    // building them; the process ends next.
    std::mem::forget((live, loaded, provider));
    Ok(0)
}

fn summary(r: &Report, out: &Path, files: usize) -> String {
    let pct = |part: usize, whole: usize| format!("{:.1}%", Report::percent(part, whole));
    let mut s = format!(
        "Imported {} users ({} in scope and enabled) into `{}`: {files} files.\n",
        r.users,
        r.described,
        out.display()
    );
    s.push_str(&format!(
        "  {} ranges, {} personas (bundles held by at least {} users), {} rules, {} tests\n",
        r.ranges, r.personas, r.min_persona_users, r.rules, r.tests
    ));
    s.push_str(&format!(
        "  explained by rules: {} users ({})\n",
        r.by_rules,
        pct(r.by_rules, r.described)
    ));
    s.push_str(&format!(
        "  user overrides:     {} users ({}), {} of them left alone (no persona matches what they hold)\n",
        r.overrides,
        pct(r.overrides, r.described),
        r.ignored
    ));
    s.push_str(&format!(
        "  a plan right after import changes {} of {} users in scope ({}), with {} error{}\n",
        r.plan_changed,
        r.plan_in_scope,
        pct(r.plan_changed, r.plan_in_scope),
        r.plan_errors,
        if r.plan_errors == 1 { "" } else { "s" }
    ));
    s
}

/// Refuse an output directory that would lose something.
fn check_out(g: &Global, out: &Path, force: bool, has_manifests: bool) -> Result<()> {
    let shown = out.display();
    let parent = parent_of(out);
    if !parent.is_dir() {
        return Err(Failure::new(format!(
            "cannot write the import into `{shown}`: the folder `{}` does not exist\nhint: create it first, or name a folder inside one that exists",
            parent.display()
        )));
    }
    if out.exists() && !out.is_dir() {
        return Err(Failure::new(format!(
            "refusing to write the import into `{shown}`: it is a file\nhint: name a new folder"
        )));
    }
    if let (Ok(o), Ok(c)) = (out.canonicalize(), g.config.canonicalize())
        && c.starts_with(&o)
    {
        return Err(Failure::new(format!(
            "refusing to write the import into `{shown}`: it holds the config directory `{}`\nhint: name a new folder outside it",
            g.config.display()
        )));
    }
    let inside = parent
        .canonicalize()
        .ok()
        .zip(g.config.canonicalize().ok())
        .is_some_and(|(p, c)| p.starts_with(&c));
    if inside && has_manifests {
        return Err(Failure::new(format!(
            "refusing to write the import into `{shown}`: it is inside the config directory `{}`, whose manifests it would join\nhint: name a folder outside it",
            g.config.display()
        )));
    }
    let non_empty = out.is_dir()
        && std::fs::read_dir(out)
            .map_err(|e| Failure::new(format!("cannot read `{shown}`: {e}")))?
            .next()
            .is_some();
    if non_empty && !force {
        return Err(Failure::new(format!(
            "refusing to write the import into `{shown}`: it exists and is not empty\nhint: name a new folder, or pass `--force` to replace everything in it"
        )));
    }
    Ok(())
}

fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Write the files into a hidden folder beside `out`, then rename it into
/// place (moving an existing `out` aside first, and deleting it after).
fn write_dir(out: &Path, files: &[(String, String)]) -> Result<()> {
    let parent = parent_of(out);
    let name = out
        .file_name()
        .map_or_else(|| "import".into(), |n| n.to_string_lossy().to_string());
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.roster-import-{pid}"));
    let old = parent.join(format!(".{name}.roster-import-old-{pid}"));
    let fail = |what: String, e: std::io::Error| {
        let _ = std::fs::remove_dir_all(&tmp);
        Failure::new(format!(
            "cannot write the import into `{}`: {what}: {e}",
            out.display()
        ))
    };
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| fail(format!("creating `{}`", tmp.display()), e))?;
    for (path, text) in files {
        let p = tmp.join(path);
        write_synced(&p, text).map_err(|e| fail(format!("writing `{}`", p.display()), e))?;
    }
    crate::files::sync_dir(&tmp).map_err(|e| fail(format!("flushing `{}`", tmp.display()), e))?;
    let replace = out.is_dir();
    if replace {
        std::fs::rename(out, &old)
            .map_err(|e| fail(format!("moving `{}` aside", out.display()), e))?;
    }
    if let Err(e) = std::fs::rename(&tmp, out) {
        if replace {
            let _ = std::fs::rename(&old, out);
        }
        return Err(fail("renaming it into place".into(), e));
    }
    if replace {
        let _ = std::fs::remove_dir_all(&old);
    }
    // The new name survives a crash only once the parent folder is flushed.
    crate::files::sync_dir(&parent).map_err(|e| {
        Failure::new(format!(
            "the import is in `{}`, but flushing its folder failed: {e}",
            out.display()
        ))
    })
}

/// Write `text` to `path` and flush it to disk before the folder is renamed
/// into place.
fn write_synced(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

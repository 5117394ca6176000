//! `roster fmt [--check]`: canonical formatting of the manifests.
//!
//! Formats every file `config_dir::load` reads with [`crate::format`]. Plain
//! `fmt` rewrites the files that change (atomically, keeping their
//! permissions) and names them on stderr; `--check` changes nothing, prints
//! a unified diff per file that would change and exits 1. When any file
//! cannot be formatted nothing is written at all.

use std::io::Write as _;
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};
use clap::Args;

use super::{Failure, Global, Result, stdout_color};
use crate::config_dir;
use crate::format::{self, FmtError};

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Change nothing: print a unified diff and exit 1 when anything would change.
    #[arg(long)]
    pub check: bool,
}

/// A manifest whose canonical form differs from what is on disk.
struct Change {
    rel: String,
    path: PathBuf,
    before: String,
    after: String,
}

pub fn run(g: &Global, args: &FmtArgs) -> Result<u8> {
    let mut changes = Vec::new();
    let mut failures = Vec::new();
    for (rel, path) in config_dir::manifest_paths(&g.config)? {
        let before = config_dir::read_manifest(&rel, &path)?;
        match format::format_file(&rel, &before) {
            Ok(after) if after != before => changes.push(Change {
                rel,
                path,
                before,
                after,
            }),
            Ok(_) => {}
            Err(e) => failures.push((rel, e)),
        }
    }
    if !failures.is_empty() {
        return Err(cannot_format(&failures));
    }
    if args.check {
        check(&changes)
    } else {
        write(&changes)
    }
}

fn cannot_format(failures: &[(String, FmtError)]) -> Failure {
    let mut msg = match failures {
        [(rel, e)] => format!("cannot format `{rel}`: {e}; nothing was changed"),
        many => {
            let mut m = format!(
                "cannot format {} manifests; nothing was changed",
                many.len()
            );
            for (rel, e) in many {
                m.push_str(&format!("\n  `{rel}`: {e}"));
            }
            m
        }
    };
    if failures
        .iter()
        .any(|(_, e)| matches!(e, FmtError::Syntax { .. }))
    {
        msg.push_str("\nhint: fix the syntax first; `roster validate` shows where");
    }
    Failure::new(msg)
}

fn check(changes: &[Change]) -> Result<u8> {
    if changes.is_empty() {
        return Ok(0);
    }
    let color = stdout_color();
    let mut out = std::io::stdout().lock();
    for c in changes {
        let diff = format::unified_diff(&c.rel, &c.before, &c.after);
        let text = if color { paint(&diff) } else { diff };
        out.write_all(text.as_bytes())
            .map_err(|e| Failure::new(format!("cannot write the diff: {e}")))?;
    }
    out.flush()
        .map_err(|e| Failure::new(format!("cannot write the diff: {e}")))?;
    let n = changes.len();
    eprintln!(
        "{n} manifest{} would be reformatted\nhint: run `roster fmt` to format {}",
        if n == 1 { "" } else { "s" },
        if n == 1 { "it" } else { "them" }
    );
    Ok(1)
}

fn write(changes: &[Change]) -> Result<u8> {
    for c in changes {
        // The temporary file is created private; give it the manifest's mode.
        crate::files::write_atomic(&c.path, c.after.as_bytes(), |_| Ok(()))
            .map_err(|e| Failure::new(format!("cannot write `{}`: {e}", c.rel)))?;
        eprintln!("{}", c.rel);
    }
    Ok(0)
}

/// Colour a unified diff for a terminal.
fn paint(diff: &str) -> String {
    let style = |line: &str| -> Style {
        if line.starts_with("+++") || line.starts_with("---") {
            Style::new().bold()
        } else if line.starts_with('+') {
            AnsiColor::Green.on_default()
        } else if line.starts_with('-') {
            AnsiColor::Red.on_default()
        } else if line.starts_with("@@") {
            AnsiColor::Cyan.on_default()
        } else {
            Style::new()
        }
    };
    diff.split_inclusive('\n')
        .map(|line| {
            let (text, nl) = match line.strip_suffix('\n') {
                Some(t) => (t, "\n"),
                None => (line, ""),
            };
            let s = style(text);
            format!("{s}{text}{s:#}{nl}")
        })
        .collect()
}

//! `roster history`: what roster changed, from the apply journal in the
//! state directory (`journal.jsonl`), newest last.

use clap::{Args, ValueEnum};

use super::{Global, Result};
use crate::plan::render::describe;
use crate::state::journal::{self, Entry};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only applies that changed this user (UPN or object id).
    #[arg(long, value_name = "UPN")]
    pub user: Option<String>,
    /// Only applies from this time on (`2026-11-30` or RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: HistoryFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HistoryFormat {
    Text,
    Json,
}

pub fn history(g: &Global, args: &HistoryArgs) -> Result<u8> {
    let entries = super::state::state_dir(g)?.journal()?;
    let chosen = journal::select(&entries, args.user.as_deref(), args.since.as_deref());
    let text = match args.format {
        HistoryFormat::Json => {
            let mut s = serde_json::to_string_pretty(&chosen).expect("entries serialise");
            s.push('\n');
            s
        }
        HistoryFormat::Text => render(&chosen, args.user.as_deref()),
    };
    print!("{text}");
    Ok(0)
}

/// One block per apply; with `user`, only that user's lines.
pub fn render(entries: &[&Entry], user: Option<&str>) -> String {
    if entries.is_empty() {
        return "No applies recorded.\n".to_string();
    }
    let mut out = String::new();
    for e in entries {
        let commit = e
            .git
            .as_ref()
            .map(|g| format!(" at {}", &g.commit[..g.commit.len().min(12)]))
            .unwrap_or_default();
        let revert = e
            .revert_of
            .as_ref()
            .map(|r| format!(" (revert of {r})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{} apply {} by {}{commit}: {} users{revert}\n",
            e.time,
            e.id,
            e.who,
            e.users.len()
        ));
        if e.interrupted {
            out.push_str(
                "  interrupted (killed or crashed): outcome as the next apply found the tenant\n",
            );
        }
        if e.unfinished {
            out.push_str(
                "  did not finish (killed or crashed): the actions below may be partly done\n",
            );
        }
        for u in &e.users {
            if user.is_some_and(|x| !u.upn.eq_ignore_ascii_case(x) && !u.id.eq_ignore_ascii_case(x))
            {
                continue;
            }
            let status = serde_json::to_value(u.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push_str(&format!("  {} ({status})\n", u.upn));
            if u.drifted_from.is_some() {
                out.push_str("    drift corrected: changed by hand since roster's last apply\n");
            }
            for a in &u.actions {
                out.push_str(&format!("    {}\n", describe(a)));
            }
            for err in &u.errors {
                out.push_str(&format!("    error: {err}\n"));
            }
        }
    }
    out
}

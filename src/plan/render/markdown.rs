//! The pull-request comment: summary line and table first, errors and
//! warnings next, then one collapsible section per persona, kept under a
//! size budget (GitHub caps comments at 65,536 characters) with a note that
//! points to the full JSON plan when it had to cut.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{describe, reason, sign};
use crate::plan::{Action, Cause, Change, Plan};

/// Budget for the whole comment, below GitHub's 65,536-character cap.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// Marker so CI can find and update its own comment.
pub const COMMENT_MARKER: &str = "<!-- roster-plan -->";

#[derive(Default)]
struct Counts {
    users: usize,
    assigned: usize,
    removed: usize,
    numbers_in: usize,
    numbers_out: usize,
}

pub fn markdown(plan: &Plan, limit: usize) -> String {
    let s = &plan.summary;
    let mut head = String::new();
    let _ = writeln!(head, "{COMMENT_MARKER}");
    let _ = writeln!(head, "### roster plan for `{}`\n", plan.tenant.name);
    let status = if plan.has_errors() {
        "❌ **errors: cannot be applied**"
    } else if plan.changes.is_empty() {
        "✅ **no changes**"
    } else {
        "📝 **changes to review**"
    };
    let _ = writeln!(
        head,
        "{status} · {} users changed of {} in scope · {} policies assigned, {} removed · {} numbers assigned, {} released · {} unmatched · {} warnings · {} errors\n",
        s.users_changed,
        s.users_in_scope,
        s.policies_assigned,
        s.policies_removed,
        s.numbers_assigned,
        s.numbers_released,
        s.unmatched,
        s.warnings,
        s.errors
    );
    if let Some(git) = &plan.config.git {
        let short: String = git.commit.chars().take(12).collect();
        let _ = writeln!(
            head,
            "Manifests at `{short}`{}{}\n",
            git.reference
                .as_deref()
                .map(|r| format!(" (`{r}`)"))
                .unwrap_or_default(),
            if git.dirty {
                ", with uncommitted changes"
            } else {
                ""
            }
        );
    }
    if !plan.errors.is_empty() {
        let _ = writeln!(head, "#### Errors\n");
        for e in &plan.errors {
            let _ = writeln!(head, "- `{}` {}", e.code, escape(&e.message));
        }
        head.push('\n');
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(head, "#### Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(head, "- `{}` {}", w.code, escape(&w.message));
        }
        head.push('\n');
    }

    let split = plan.changes.iter().any(|c| c.cause.is_some());
    let groups: Vec<(Option<Cause>, &str)> = if split {
        vec![
            (Some(Cause::Change), "Changes caused by this pull request"),
            (
                Some(Cause::Drift),
                "Drift already pending in the tenant (not caused by this change)",
            ),
        ]
    } else {
        vec![(None, "")]
    };

    let mut body = String::new();
    let mut omitted = 0usize;
    let tail_reserve = 400;
    for (cause, title) in groups {
        let changes: Vec<&Change> = plan.changes.iter().filter(|c| c.cause == cause).collect();
        if split {
            let _ = writeln!(body, "#### {title} ({} users)\n", changes.len());
            if changes.is_empty() {
                body.push_str("None.\n\n");
                continue;
            }
        }
        let by_persona = group_by_persona(&changes);
        body.push_str(&table(&by_persona));
        for (persona, list) in &by_persona {
            let mut section = String::new();
            let _ = writeln!(
                section,
                "<details><summary><b>{}</b>: {} user{}</summary>\n\n```diff",
                escape(persona),
                list.len(),
                if list.len() == 1 { "" } else { "s" }
            );
            let mut shown = 0;
            for c in list {
                let mut block = format!("~ {}  ({})\n", c.user.upn, reason(&c.reason));
                for a in &c.actions {
                    let _ = writeln!(block, "{}   {}", sign(a), describe(a));
                }
                if head.len() + body.len() + section.len() + block.len() + tail_reserve > limit {
                    break;
                }
                section.push_str(&block);
                shown += 1;
            }
            section.push_str("```\n");
            if shown < list.len() {
                let _ = writeln!(
                    section,
                    "\n…and {} more users in this persona.",
                    list.len() - shown
                );
                omitted += list.len() - shown;
            }
            section.push_str("\n</details>\n\n");
            if head.len() + body.len() + section.len() + tail_reserve > limit {
                omitted += shown;
                continue;
            }
            body.push_str(&section);
        }
    }
    if !plan.unmatched.is_empty() {
        let mut section = format!(
            "<details><summary>{} unmatched users (no rule matches; left alone)</summary>\n\n",
            plan.unmatched.len()
        );
        let mut cut = 0;
        for u in &plan.unmatched {
            let line = format!("- `{}`\n", u.upn);
            if head.len() + body.len() + section.len() + line.len() + tail_reserve > limit {
                cut += 1;
                continue;
            }
            section.push_str(&line);
        }
        if cut > 0 {
            let _ = writeln!(section, "- …and {cut} more");
        }
        section.push_str("\n</details>\n\n");
        if head.len() + body.len() + section.len() + tail_reserve <= limit {
            body.push_str(&section);
        }
    }
    let mut out = head;
    out.push_str(&body);
    if omitted > 0 {
        let _ = writeln!(
            out,
            "> ⚠️ This comment is truncated: {omitted} user changes are not shown. The full plan is in the JSON plan artifact (`roster plan --format json`)."
        );
    }
    out
}

fn group_by_persona<'a>(changes: &[&'a Change]) -> BTreeMap<String, Vec<&'a Change>> {
    let mut map: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
    for c in changes {
        let key = c.persona.clone().unwrap_or_else(|| "(leavers)".into());
        map.entry(key).or_default().push(c);
    }
    map
}

fn table(by_persona: &BTreeMap<String, Vec<&Change>>) -> String {
    let mut out = String::from(
        "| persona | users | policies assigned | policies removed | numbers assigned | numbers released |\n|---|--:|--:|--:|--:|--:|\n",
    );
    for (persona, list) in by_persona {
        let mut c = Counts {
            users: list.len(),
            ..Counts::default()
        };
        for a in list.iter().flat_map(|ch| &ch.actions) {
            match a {
                Action::AssignPolicy { .. } => c.assigned += 1,
                Action::RemovePolicy { .. } => c.removed += 1,
                Action::AssignNumber { .. } => c.numbers_in += 1,
                Action::ReleaseNumber { .. } => c.numbers_out += 1,
            }
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            escape(persona),
            c.users,
            c.assigned,
            c.removed,
            c.numbers_in,
            c.numbers_out
        );
    }
    out.push('\n');
    out
}

/// Keep user-controlled text from breaking the Markdown or HTML around it.
fn escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

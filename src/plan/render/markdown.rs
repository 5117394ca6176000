//! The pull-request comment: summary line and table first, errors and
//! warnings next, then one collapsible section per persona, kept under a
//! size budget (GitHub caps comments at 65,536 characters) with a note that
//! points to the full JSON plan when it had to cut.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{REVERT_NOTE, describe, quarantine_lines, reason, sign};
use crate::plan::{Action, Cause, Change, Plan, Reason};

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
    match &plan.revert_of {
        Some(id) => {
            let _ = writeln!(
                head,
                "### roster revert of apply `{}` for `{}`\n",
                escape(id),
                plan.tenant.name
            );
            let _ = writeln!(head, "{REVERT_NOTE}\n");
        }
        None => {
            let _ = writeln!(head, "### roster plan for `{}`\n", plan.tenant.name);
        }
    }
    let status = if plan.has_errors() {
        "❌ **errors: cannot be applied**"
    } else if plan.changes.is_empty() {
        "✅ **no changes**"
    } else {
        "📝 **changes to review**"
    };
    let _ = writeln!(
        head,
        "{status} · {} changed of {} in scope · {} assigned, {} removed · {} assigned, {} released · {} unmatched · {} · {}\n",
        count(s.users_changed, "user", "users"),
        s.users_in_scope,
        count(s.policies_assigned, "policy", "policies"),
        s.policies_removed,
        count(s.numbers_assigned, "number", "numbers"),
        s.numbers_released,
        s.unmatched,
        count(s.warnings, "warning", "warnings"),
        count(s.errors, "error", "errors"),
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
    // Errors and warnings come before the changes, but each list gets only
    // a share of the budget so thousands of them cannot crowd out the rest.
    let mut cut = Cut {
        errors: issues(&mut head, "Errors", &plan.errors, limit * 2 / 5),
        ..Cut::default()
    };
    cut.warnings = issues(&mut head, "Warnings", &plan.warnings, limit * 3 / 5);

    let split = plan.changes.iter().any(|c| c.cause.is_some());
    let groups: Vec<(Option<Cause>, &str)> = if split {
        vec![
            (Some(Cause::Change), "Changes caused by this pull request"),
            (
                Some(Cause::Drift),
                "Drift already pending in the tenant, not caused by this change",
            ),
        ]
    } else {
        vec![(None, "")]
    };

    let mut body = String::new();
    let mut omitted = 0usize;
    let tail_reserve = 500;
    let group_count = groups.len();
    for (gi, (cause, title)) in groups.into_iter().enumerate() {
        // In a split plan a change without a cause counts as caused by it.
        let changes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| match cause {
                None => true,
                Some(k) => c.cause.unwrap_or(Cause::Change) == k,
            })
            .collect();
        if split {
            let _ = writeln!(body, "#### {title} ({} users)\n", changes.len());
            if changes.is_empty() {
                body.push_str("None.\n\n");
                continue;
            }
        }
        let by_persona = group_by_persona(&changes);
        // A table may use its share of what is left: half of it, or a
        // third for the first of two groups.
        let room = limit.saturating_sub(head.len() + body.len() + tail_reserve);
        let (rows, cut_rows) = table(&by_persona, room / (group_count - gi + 1));
        body.push_str(&rows);
        cut.personas += cut_rows;
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
    for (title, lines) in [
        (
            format!(
                "Conflicts ({}): changed since the apply, left alone",
                plan.conflicts.len()
            ),
            plan.conflicts
                .iter()
                .map(|c| {
                    format!(
                        "- `{}`: {}\n",
                        escape(&c.user.upn),
                        escape(&c.differences.join("; "))
                    )
                })
                .collect::<Vec<_>>(),
        ),
        (
            format!(
                "Numbers in quarantine ({}): not given to anyone until they come free",
                plan.quarantine.len()
            ),
            quarantine_lines(plan)
                .iter()
                .map(|l| format!("- {}\n", escape(l)))
                .collect(),
        ),
    ] {
        if !lines.is_empty() {
            let room = limit
                .saturating_sub(head.len() + body.len() + 600)
                .min(limit / 10);
            body.push_str(&listed(&title, &lines, room));
        }
    }
    if !plan.unmatched.is_empty() {
        let mut section = format!(
            "<details><summary>{} unmatched users (no rule matches; left alone)</summary>\n\n",
            plan.unmatched.len()
        );
        let mut shown = 0;
        // Room for the "…and N more" line and the closing tag.
        let closing = 80;
        for u in &plan.unmatched {
            let line = format!("- `{}`\n", escape(&u.upn));
            if head.len() + body.len() + section.len() + line.len() + closing + tail_reserve > limit
            {
                break;
            }
            section.push_str(&line);
            shown += 1;
        }
        if shown < plan.unmatched.len() {
            let _ = writeln!(section, "- …and {} more", plan.unmatched.len() - shown);
        }
        section.push_str("\n</details>\n\n");
        if head.len() + body.len() + section.len() + tail_reserve <= limit {
            body.push_str(&section);
            cut.unmatched = plan.unmatched.len() - shown;
        } else {
            cut.unmatched = plan.unmatched.len();
        }
    }
    cut.changes = omitted;
    let mut out = head;
    out.push_str(&body);
    if let Some(note) = cut.note() {
        let _ = writeln!(out, "{note}");
    }
    out
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the budget left out.
#[derive(Default)]
struct Cut {
    changes: usize,
    personas: usize,
    errors: usize,
    warnings: usize,
    unmatched: usize,
}

impl Cut {
    fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.changes > 0 {
            parts.push(format!("{} user changes", self.changes));
        }
        if self.personas > 0 {
            parts.push(format!("{} persona table rows", self.personas));
        }
        if self.errors > 0 {
            parts.push(format!("{} errors", self.errors));
        }
        if self.warnings > 0 {
            parts.push(format!("{} warnings", self.warnings));
        }
        if self.unmatched > 0 {
            parts.push(format!("{} unmatched users", self.unmatched));
        }
        if parts.is_empty() {
            return None;
        }
        Some(format!(
            "> ⚠️ This comment is truncated: {} are not shown. The full plan is in the JSON plan artifact (`roster plan --format json`).",
            parts.join(", ")
        ))
    }
}

/// A list of errors or warnings, appended to `out` while `out` stays within
/// `budget` bytes; returns how many did not fit.
fn issues(out: &mut String, title: &str, list: &[crate::plan::Issue], budget: usize) -> usize {
    if list.is_empty() {
        return 0;
    }
    let _ = writeln!(out, "#### {title}\n");
    let mut shown = 0;
    for i in list {
        let line = format!("- `{}` {}\n", i.code, escape(&i.message));
        // Keep room for the "…and N more" line.
        if out.len() + line.len() + 80 > budget {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    let cut = list.len() - shown;
    if cut > 0 {
        let _ = writeln!(
            out,
            "- …and {cut} more {} (see the JSON plan)",
            title.to_lowercase()
        );
    }
    out.push('\n');
    cut
}

/// A collapsible list of `lines` within `room` bytes (kept small: these
/// lists are for reading, the JSON plan has them all).
fn listed(title: &str, lines: &[String], room: usize) -> String {
    let mut out = format!("<details><summary>{title}</summary>\n\n");
    let mut shown = 0;
    for l in lines {
        if out.len() + l.len() + 80 > room {
            break;
        }
        out.push_str(l);
        shown += 1;
    }
    if shown < lines.len() {
        let _ = writeln!(
            out,
            "- …and {} more (see the JSON plan)",
            lines.len() - shown
        );
    }
    out.push_str("\n</details>\n\n");
    out
}

fn group_by_persona<'a>(changes: &[&'a Change]) -> BTreeMap<String, Vec<&'a Change>> {
    let mut map: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
    for c in changes {
        let key = c.persona.clone().unwrap_or_else(|| match c.reason {
            Reason::Revert => "(revert)".into(),
            _ => "(leavers)".into(),
        });
        map.entry(key).or_default().push(c);
    }
    map
}

/// The summary table, within `budget` bytes; also how many persona rows
/// did not fit.
fn table(by_persona: &BTreeMap<String, Vec<&Change>>, budget: usize) -> (String, usize) {
    let mut out = String::from(
        "| persona | users | policies assigned | policies removed | numbers assigned | numbers released |\n|---|--:|--:|--:|--:|--:|\n",
    );
    // Room for the "…and N more" row and the blank line.
    let closing = 80;
    let mut shown = 0;
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
        let row = format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            escape(persona),
            c.users,
            c.assigned,
            c.removed,
            c.numbers_in,
            c.numbers_out
        );
        if out.len() + row.len() + closing > budget {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    let cut = by_persona.len() - shown;
    if cut > 0 {
        let _ = writeln!(out, "| …and {cut} more personas | | | | | |");
    }
    out.push('\n');
    (out, cut)
}

/// Keep user-controlled text from breaking the Markdown or HTML around it.
fn escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

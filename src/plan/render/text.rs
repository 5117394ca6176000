//! The terminal view, read like Terraform's: a block per user with `+`, `-`
//! and `~` lines, then unmatched users, warnings, errors and a closing
//! summary line. Colour only when asked (a terminal without `NO_COLOR`).

use std::borrow::Cow;
use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{REVERT_NOTE, describe_into, quarantine_lines, reason, sign, summary_line};
use crate::plan::{Cause, Plan};

fn paint(color: bool, style: Style, s: &str) -> Cow<'_, str> {
    if color {
        Cow::Owned(format!("{}{s}{}", style.render(), style.render_reset()))
    } else {
        Cow::Borrowed(s)
    }
}

fn sign_style(c: char) -> Style {
    match c {
        '+' => AnsiColor::Green.on_default(),
        '-' => AnsiColor::Red.on_default(),
        _ => AnsiColor::Yellow.on_default(),
    }
}

pub fn text(plan: &Plan, color: bool) -> String {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    // About what a change and an unmatched user take: one buffer.
    let mut out =
        String::with_capacity(1024 + plan.changes.len() * 224 + plan.unmatched.len() * 48);
    match &plan.revert_of {
        Some(id) => {
            let _ = writeln!(
                out,
                "roster revert of apply {id} for tenant \"{}\" ({} provider): back to each user's state before it",
                plan.tenant.name, plan.tenant.provider
            );
        }
        None => {
            let _ = writeln!(
                out,
                "roster plan for tenant \"{}\" ({} provider), {} users in scope",
                plan.tenant.name, plan.tenant.provider, plan.summary.users_in_scope
            );
        }
    }
    if !plan.limit.users.is_empty() {
        let _ = writeln!(out, "limited to: {}", plan.limit.users.join(", "));
    }
    for cause in [None, Some(Cause::Change), Some(Cause::Drift)] {
        let changes: Vec<_> = plan.changes.iter().filter(|c| c.cause == cause).collect();
        if changes.is_empty() {
            continue;
        }
        match cause {
            Some(Cause::Change) => {
                let _ = writeln!(
                    out,
                    "\n{}",
                    paint(color, bold, "Changes caused by this revision:")
                );
            }
            Some(Cause::Drift) => {
                let _ = writeln!(
                    out,
                    "\n{}",
                    paint(color, bold, "Drift already pending at the base revision:")
                );
            }
            None => {}
        }
        for c in changes {
            let name = match &c.user.display_name {
                Some(n) => format!("{} ({n})", c.user.upn),
                None => c.user.upn.clone(),
            };
            let why = match c.persona.as_deref() {
                Some(persona) => format!("persona {persona}, by {}", reason(&c.reason)),
                None => reason(&c.reason),
            };
            let _ = writeln!(
                out,
                "\n  {} {}  {}",
                paint(color, sign_style('~'), "~"),
                paint(color, bold, &name),
                paint(color, dim, &why)
            );
            for a in &c.actions {
                let s = sign(a);
                out.push_str("      ");
                if color {
                    out.push_str(&paint(color, sign_style(s), s.encode_utf8(&mut [0; 4])));
                } else {
                    out.push(s);
                }
                out.push(' ');
                describe_into(&mut out, a);
                out.push('\n');
            }
        }
    }
    if !plan.unmatched.is_empty() {
        let _ = writeln!(
            out,
            "\nUnmatched users ({}), left alone: no rule matches them:",
            plan.unmatched.len()
        );
        for u in &plan.unmatched {
            let _ = writeln!(out, "  ? {}", u.upn);
        }
    }
    if !plan.conflicts.is_empty() {
        let _ = writeln!(
            out,
            "\nConflicts ({}), left alone: changed since the apply:",
            plan.conflicts.len()
        );
        for c in &plan.conflicts {
            let _ = writeln!(out, "  ! {}", c.user.upn);
            for d in &c.differences {
                let _ = writeln!(out, "      {d}");
            }
        }
    }
    if !plan.quarantine.is_empty() {
        let _ = writeln!(
            out,
            "\nNumbers in quarantine ({}), not given to anyone until they come free:",
            plan.quarantine.len()
        );
        for line in quarantine_lines(plan) {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out);
        for w in &plan.warnings {
            let _ = writeln!(
                out,
                "{} [{}] {}",
                paint(color, AnsiColor::Yellow.on_default().bold(), "warning:"),
                w.code,
                w.message
            );
        }
    }
    if !plan.errors.is_empty() {
        let _ = writeln!(out);
        for e in &plan.errors {
            let _ = writeln!(
                out,
                "{} [{}] {}",
                paint(color, AnsiColor::Red.on_default().bold(), "error:"),
                e.code,
                e.message
            );
        }
    }
    let _ = writeln!(out, "\n{}", paint(color, bold, &summary_line(plan)));
    if plan.revert_of.is_some() {
        let _ = writeln!(out, "{REVERT_NOTE}");
    }
    if plan.has_errors() {
        let _ = writeln!(
            out,
            "{}",
            paint(
                color,
                AnsiColor::Red.on_default(),
                &format!(
                    "The plan has {} error{} and cannot be applied.",
                    plan.errors.len(),
                    if plan.errors.len() == 1 { "" } else { "s" }
                )
            )
        );
    }
    out
}

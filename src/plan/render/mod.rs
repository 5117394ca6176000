//! One plan, several renderers, all pure: `text` for a terminal (Terraform
//! style), `markdown` for a pull-request comment, `json` for machines.

mod markdown;
mod text;

pub use markdown::{MARKDOWN_LIMIT, markdown};
pub use text::text;

use super::{Action, Plan, Reason};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// [`render`] with names and numbers hidden as `what` asks (see
/// [`crate::plan::redact`]).
pub fn render_redacted(
    plan: &Plan,
    format: Format,
    color: bool,
    what: crate::plan::redact::Redact,
    key: &str,
) -> String {
    if !what.any() {
        return render(plan, format, color);
    }
    let shown = crate::plan::redact::redact(plan, what, key);
    let text = render(&shown, format, color);
    if what.numbers {
        crate::plan::redact::numbers_in_text(&text, key)
    } else {
        text
    }
}

pub fn render(plan: &Plan, format: Format, color: bool) -> String {
    match format {
        Format::Text => text(plan, color),
        Format::Markdown => markdown(plan, MARKDOWN_LIMIT),
        Format::Json => plan.to_json(),
    }
}

/// One line per number in quarantine: `+… (range r) until …, released from …`.
pub(crate) fn quarantine_lines(plan: &Plan) -> Vec<String> {
    plan.quarantine
        .iter()
        .map(|q| {
            let from = if q.holder.is_empty() {
                String::new()
            } else {
                format!(", released from {}", q.holder)
            };
            format!("{} (range {}) until {}{from}", q.number, q.range, q.until)
        })
        .collect()
}

/// What every revert plan says after its changes.
pub const REVERT_NOTE: &str = "After this revert, the next `roster plan` plans the manifests again and would redo what was reverted: revert the manifests' change too (e.g. `git revert` of its commit).";

/// `+`, `-` or `~` for an action.
pub(crate) fn sign(a: &Action) -> char {
    match a {
        Action::AssignPolicy { from: None, .. } | Action::AssignNumber { .. } => '+',
        Action::AssignPolicy { from: Some(_), .. } => '~',
        Action::RemovePolicy { .. } | Action::ReleaseNumber { .. } => '-',
    }
}

/// An action in words, without its sign.
pub(crate) fn describe(a: &Action) -> String {
    let mut s = String::new();
    describe_into(&mut s, a);
    s
}

/// [`describe`], written at the end of `out`.
pub(crate) fn describe_into(out: &mut String, a: &Action) {
    use std::fmt::Write;
    let _ = match a {
        Action::AssignPolicy {
            policy_type,
            from: None,
            to,
        } => write!(out, "{policy_type}: \"{to}\""),
        Action::AssignPolicy {
            policy_type,
            from: Some(f),
            to,
        } => write!(out, "{policy_type}: \"{f}\" -> \"{to}\""),
        Action::RemovePolicy { policy_type, from } => {
            write!(
                out,
                "{policy_type}: \"{from}\" removed (Global or group applies)"
            )
        }
        Action::ReleaseNumber { number } => write!(out, "number {number} released"),
        Action::AssignNumber {
            number,
            number_type,
            range,
            location_id,
        } => {
            let _ = write!(out, "number {number} ({}", number_type.graph_name());
            if let Some(r) = range {
                let _ = write!(out, ", range {r}");
            }
            if let Some(l) = location_id {
                let _ = write!(out, ", location {l}");
            }
            write!(out, ")")
        }
    };
}

pub(crate) fn reason(r: &Reason) -> String {
    match r {
        Reason::Rule { name } => format!("rule \"{name}\""),
        Reason::Override => "user override".into(),
        Reason::Leaver => "leaver (account disabled)".into(),
        Reason::Revert => "revert".into(),
    }
}

/// The closing line: `Plan: 3 users to change: …`.
pub(crate) fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    if plan.changes.is_empty()
        && let Some(id) = &plan.revert_of
    {
        return format!("Nothing to revert of apply {id}.");
    }
    if plan.changes.is_empty() && plan.has_errors() {
        // Users with errors have no actions: they are not "as the manifests say".
        return "No changes planned, but the plan has errors to fix first.".to_string();
    }
    if plan.changes.is_empty() {
        return format!(
            "No changes. {} users in scope are as the manifests say.",
            s.users_in_scope
        );
    }
    format!(
        "Plan: {} user{} to change: {} polic{} to assign, {} to remove, {} number{} to assign, {} to release.",
        s.users_changed,
        if s.users_changed == 1 { "" } else { "s" },
        s.policies_assigned,
        if s.policies_assigned == 1 { "y" } else { "ies" },
        s.policies_removed,
        s.numbers_assigned,
        if s.numbers_assigned == 1 { "" } else { "s" },
        s.numbers_released,
    )
}

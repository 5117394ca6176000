//! The plan: data only (serialisable, sorted, fingerprinted), the contract
//! of `docs/plan-format.md`. [`diff`] builds it from the desired and live states;
//! the renderers show it; `apply` executes it.

mod cause;
mod diff;
pub mod fingerprint;
pub mod redact;
pub mod render;
pub mod safety;
pub mod schedule;

use std::cmp::Ordering;
use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::numbers::E164;

pub use crate::desired::{Quarantined, Reason};
pub use crate::issue::{Issue, IssueCode};
pub use cause::mark_causes;
pub use diff::{Meta, diff};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "roster plan")]
pub struct Plan {
    pub format_version: u32,
    pub roster_version: String,
    /// When the plan was made (RFC 3339, UTC). The only field that differs
    /// between two plans of the same inputs.
    pub created_at: String,
    pub config: ConfigInfo,
    pub tenant: TenantInfo,
    pub limit: Limit,
    /// A revert plan (`roster revert`): the id of the apply it undoes.
    /// Left out of every other plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_of: Option<String>,
    pub summary: Summary,
    pub changes: Vec<Change>,
    /// A revert plan's users that changed since the apply: left alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    pub unmatched: Vec<UserRef>,
    /// Numbers in quarantine that a range would otherwise offer, and when
    /// each comes free; left out when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarantine: Vec<Quarantined>,
    pub warnings: Vec<Issue>,
    pub errors: Vec<Issue>,
}

/// A user a revert leaves alone: it is no longer as the apply left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Conflict {
    pub user: UserRef,
    /// What differs, one line each.
    pub differences: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigInfo {
    /// `sha256:` over every manifest's path and content.
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GitInfo {
    pub commit: String,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub dirty: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TenantInfo {
    pub name: String,
    /// `file` or `graph`.
    pub provider: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Limit {
    /// `--user` limits; empty when the plan covers every user.
    pub users: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub users_in_scope: usize,
    pub users_changed: usize,
    pub policies_assigned: usize,
    pub policies_removed: usize,
    pub numbers_assigned: usize,
    pub numbers_released: usize,
    pub unmatched: usize,
    pub warnings: usize,
    pub errors: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserRef {
    pub id: String,
    #[serde(rename = "userPrincipalName")]
    pub upn: String,
    #[serde(
        rename = "displayName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub user: UserRef,
    pub persona: Option<String>,
    pub reason: Reason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    pub live_fingerprint: String,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// Caused by the manifests' change since the base revision.
    Change,
    /// Pending already at the base revision.
    Drift,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Action {
    #[serde(rename_all = "camelCase")]
    AssignPolicy {
        policy_type: String,
        from: Option<String>,
        to: String,
    },
    #[serde(rename_all = "camelCase")]
    RemovePolicy {
        policy_type: String,
        from: String,
    },
    ReleaseNumber {
        number: E164,
    },
    #[serde(rename_all = "camelCase")]
    AssignNumber {
        number: E164,
        number_type: crate::numbers::NumberType,
        range: Option<String>,
        location_id: Option<String>,
    },
}

impl Action {
    /// Sort order: policy actions by type, then releases, then assignments;
    /// numbers by their text, as the plan shows them.
    pub fn cmp_order(&self, other: &Action) -> Ordering {
        use Action::*;
        let rank = |a: &Action| match a {
            AssignPolicy { .. } | RemovePolicy { .. } => 0u8,
            ReleaseNumber { .. } => 1,
            AssignNumber { .. } => 2,
        };
        rank(self)
            .cmp(&rank(other))
            .then_with(|| match (self, other) {
                (
                    AssignPolicy { policy_type: a, .. } | RemovePolicy { policy_type: a, .. },
                    AssignPolicy { policy_type: b, .. } | RemovePolicy { policy_type: b, .. },
                ) => a.cmp(b),
                (
                    ReleaseNumber { number: a } | AssignNumber { number: a, .. },
                    ReleaseNumber { number: b } | AssignNumber { number: b, .. },
                ) => a.cmp_text(b),
                _ => Ordering::Equal,
            })
    }
}

impl Plan {
    /// A plan of this roster with `meta`'s header, limited to `limit`, of
    /// `users_in_scope` users, and nothing in it yet: the caller fills it in
    /// and recounts.
    pub(crate) fn headed(meta: Meta, limit: &BTreeSet<String>, users_in_scope: usize) -> Plan {
        Plan {
            format_version: FORMAT_VERSION,
            roster_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: meta.created_at,
            config: ConfigInfo {
                digest: meta.digest,
                git: meta.git,
            },
            tenant: meta.tenant,
            limit: Limit {
                users: limit.iter().cloned().collect(),
            },
            revert_of: None,
            summary: Summary {
                users_in_scope,
                ..Summary::default()
            },
            changes: Vec::new(),
            conflicts: Vec::new(),
            unmatched: Vec::new(),
            quarantine: Vec::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Every number the plan releases.
    pub fn released_numbers(&self) -> std::collections::HashSet<E164> {
        self.changes
            .iter()
            .flat_map(|c| &c.actions)
            .filter_map(|a| match a {
                Action::ReleaseNumber { number } => Some(*number),
                _ => None,
            })
            .collect()
    }

    /// The JSON of `docs/plan-format.md`, pretty-printed, ending in a newline.
    pub fn to_json(&self) -> String {
        // About what a change and an unmatched user take, so a large plan
        // is written into one buffer instead of doubling one many times.
        let guess = 4096 + self.changes.len() * 768 + self.unmatched.len() * 160;
        let mut buf = Vec::with_capacity(guess);
        serde_json::to_writer_pretty(&mut buf, self).expect("a plan always serialises");
        buf.push(b'\n');
        String::from_utf8(buf).expect("serde_json writes UTF-8")
    }

    pub fn from_json(text: &str) -> Result<Plan, PlanReadError> {
        // A byte-order mark (some Windows editors write one) is passed over.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let de = &mut serde_json::Deserializer::from_str(text);
        let plan: Plan = serde_path_to_error::deserialize(de).map_err(|e| PlanReadError {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        })?;
        if plan.format_version != FORMAT_VERSION {
            return Err(PlanReadError {
                path: "format_version".into(),
                message: format!(
                    "plan format version {} is not supported (this roster reads {FORMAT_VERSION})",
                    plan.format_version
                ),
            });
        }
        Ok(plan)
    }

    /// Recount the summary from the changes (after filtering or splitting).
    pub fn recount(&mut self) {
        let mut s = Summary {
            users_in_scope: self.summary.users_in_scope,
            users_changed: self.changes.len(),
            unmatched: self.unmatched.len(),
            warnings: self.warnings.len(),
            errors: self.errors.len(),
            ..Summary::default()
        };
        for a in self.changes.iter().flat_map(|c| &c.actions) {
            match a {
                Action::AssignPolicy { .. } => s.policies_assigned += 1,
                Action::RemovePolicy { .. } => s.policies_removed += 1,
                Action::ReleaseNumber { .. } => s.numbers_released += 1,
                Action::AssignNumber { .. } => s.numbers_assigned += 1,
            }
        }
        self.summary = s;
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the saved plan is not a valid roster plan at `{path}`: {message}\nhint: save plans with `roster plan --out FILE`"
)]
pub struct PlanReadError {
    pub path: String,
    pub message: String,
}

/// The action that takes a policy of type `ty` from `have` to `want`
/// (names compared without regard to ASCII case); none when they match.
pub(crate) fn policy_action(
    ty: &str,
    have: Option<&String>,
    want: Option<&String>,
) -> Option<Action> {
    match (have, want) {
        (Some(h), Some(w)) if h.eq_ignore_ascii_case(w) => None,
        (h, Some(w)) => Some(Action::AssignPolicy {
            policy_type: ty.to_string(),
            from: h.cloned(),
            to: w.clone(),
        }),
        (Some(h), None) => Some(Action::RemovePolicy {
            policy_type: ty.to_string(),
            from: h.clone(),
        }),
        (None, None) => None,
    }
}

/// The JSON Schema of the plan format.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Plan);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// An empty plan for unit tests of the plan's parts.
#[cfg(test)]
pub(crate) fn test_plan(changes: Vec<Change>) -> Plan {
    Plan {
        format_version: FORMAT_VERSION,
        roster_version: "0".into(),
        created_at: String::new(),
        config: ConfigInfo {
            digest: String::new(),
            git: None,
        },
        tenant: TenantInfo {
            name: "t".into(),
            provider: "file".into(),
        },
        limit: Limit::default(),
        revert_of: None,
        summary: Summary::default(),
        changes,
        conflicts: Vec::new(),
        unmatched: Vec::new(),
        quarantine: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::NumberType;

    fn numbered(numbers: &[&str]) -> Plan {
        let mut actions: Vec<Action> = numbers
            .iter()
            .map(|n| Action::ReleaseNumber {
                number: E164::parse(n).unwrap(),
            })
            .collect();
        actions.push(Action::AssignNumber {
            number: E164::parse("+442071230005").unwrap(),
            number_type: NumberType::DirectRouting,
            range: None,
            location_id: None,
        });
        test_plan(vec![Change {
            user: UserRef {
                id: "u1".into(),
                upn: "u1@x".into(),
                display_name: None,
            },
            persona: None,
            reason: Reason::Leaver,
            cause: None,
            live_fingerprint: String::new(),
            actions,
        }])
    }

    #[test]
    fn numbers_round_trip_as_their_text() {
        let plan = numbered(&["+4420712300"]);
        let json = plan.to_json();
        assert!(json.contains("\"number\": \"+4420712300\""), "{json}");
        assert!(json.contains("\"number\": \"+442071230005\""), "{json}");
        assert_eq!(Plan::from_json(&json).unwrap(), plan);
    }

    #[test]
    fn a_malformed_number_names_its_place() {
        let json = numbered(&[])
            .to_json()
            .replace("+442071230005", "+44 20 7123");
        let e = Plan::from_json(&json).unwrap_err();
        assert!(e.path.starts_with("changes[0].actions[0]"), "{}", e.path);
        assert!(
            e.message.contains("invalid telephone number `+44 20 7123`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn numbers_sort_as_their_text() {
        let n = |s: &str| Action::ReleaseNumber {
            number: E164::parse(s).unwrap(),
        };
        let mut actions = vec![n("+99999999"), n("+100000000"), n("+1000000000")];
        actions.push(Action::RemovePolicy {
            policy_type: "TeamsMeetingPolicy".into(),
            from: "Old".into(),
        });
        actions.sort_by(Action::cmp_order);
        let order: Vec<String> = actions
            .iter()
            .map(|a| match a {
                Action::ReleaseNumber { number } => number.to_string(),
                Action::RemovePolicy { policy_type, .. } => policy_type.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            order,
            [
                "TeamsMeetingPolicy",
                "+100000000",
                "+1000000000",
                "+99999999"
            ]
        );
    }
}

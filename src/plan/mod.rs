//! The plan: data only (serialisable, sorted, fingerprinted), the contract
//! of `plan-format.md`. [`diff`] builds it from the desired and live states;
//! the renderers show it; `apply` executes it.

mod cause;
mod diff;
pub mod fingerprint;
pub mod render;
pub mod safety;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::desired::Reason;
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
    pub summary: Summary,
    pub changes: Vec<Change>,
    pub unmatched: Vec<UserRef>,
    pub warnings: Vec<Issue>,
    pub errors: Vec<Issue>,
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
        number: String,
    },
    #[serde(rename_all = "camelCase")]
    AssignNumber {
        number: String,
        number_type: crate::numbers::NumberType,
        range: Option<String>,
        location_id: Option<String>,
    },
}

impl Action {
    /// Sort key: policy actions by type, then releases, then assignments.
    pub fn order(&self) -> (u8, &str) {
        match self {
            Action::AssignPolicy { policy_type, .. } | Action::RemovePolicy { policy_type, .. } => {
                (0, policy_type)
            }
            Action::ReleaseNumber { number } => (1, number),
            Action::AssignNumber { number, .. } => (2, number),
        }
    }
}

impl Plan {
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The JSON of `plan-format.md`, pretty-printed, ending in a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a plan always serialises");
        s.push('\n');
        s
    }

    pub fn from_json(text: &str) -> Result<Plan, PlanReadError> {
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
        summary: Summary::default(),
        changes,
        unmatched: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
    }
}

//! Problems of a plan (not of the manifests' syntax, which are
//! [`crate::manifest::Diagnostic`]s): one type from where the engine finds
//! them to the saved plan that records them.
//!
//! Codes are an enum, so a renderer, a test or a CI script matching on one
//! cannot misspell it; they serialise as the kebab-case strings of
//! `docs/plan-format.md`. Pure data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of problem an issue is.
///
/// Ordered by its name (not by declaration), so sorted issues read the same
/// as they did when codes were strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IssueCode {
    /// Error: a pinned number is held by another user the plan does not
    /// release it from.
    PinnedNumberTaken,
    /// Error: a pinned Calling Plan / Operator Connect number is not in the
    /// inventory, or cannot be assigned to users.
    PinnedNumberUnavailable,
    /// Error: a pinned number is in quarantine and the user override does
    /// not say `take-quarantined`.
    PinnedNumberQuarantined,
    /// Error: no free number is left in any of a persona's ranges.
    RangeExhausted,
    /// Warning: a `memberOf` condition names no group of the tenant.
    UnknownGroup,
    /// Warning: `--user` names no user of the tenant.
    UnknownLimitUser,
    /// Warning: a user override expired and no longer applies.
    OverrideExpired,
    /// Warning: a user override expires within 14 days.
    OverrideExpiring,
    /// Error: a persona names a policy that does not exist in the tenant.
    UnknownPolicy,
    /// Warning: a user override names no user of the tenant.
    UnknownUserOverride,
    /// Error: a user would get a number without the licence for it (Teams
    /// Phone, and a Calling Plan for a Calling Plan number).
    UnlicensedUser,
}

impl IssueCode {
    /// The code as written in plans and shown in every rendering.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::PinnedNumberTaken => "pinned-number-taken",
            IssueCode::PinnedNumberUnavailable => "pinned-number-unavailable",
            IssueCode::PinnedNumberQuarantined => "pinned-number-quarantined",
            IssueCode::RangeExhausted => "range-exhausted",
            IssueCode::UnknownGroup => "unknown-group",
            IssueCode::UnknownLimitUser => "unknown-limit-user",
            IssueCode::OverrideExpired => "override-expired",
            IssueCode::OverrideExpiring => "override-expiring",
            IssueCode::UnknownPolicy => "unknown-policy",
            IssueCode::UnknownUserOverride => "unknown-user-override",
            IssueCode::UnlicensedUser => "unlicensed-user",
        }
    }
}

impl std::fmt::Display for IssueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code equals its name: `code == "range-exhausted"`.
impl PartialEq<&str> for IssueCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for IssueCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IssueCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// A warning or an error of a plan, about one user or the whole tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Issue {
    pub code: IssueCode,
    /// The user's UPN, when the issue is about one user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub message: String,
}

impl Issue {
    /// An issue about one user.
    pub fn user(code: IssueCode, upn: impl Into<String>, message: String) -> Self {
        Issue {
            code,
            user: Some(upn.into()),
            message,
        }
    }

    /// An issue about the whole tenant or the manifests.
    pub fn tenant(code: IssueCode, message: String) -> Self {
        Issue {
            code,
            user: None,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [IssueCode; 11] = [
        IssueCode::PinnedNumberTaken,
        IssueCode::PinnedNumberUnavailable,
        IssueCode::PinnedNumberQuarantined,
        IssueCode::RangeExhausted,
        IssueCode::UnknownGroup,
        IssueCode::UnknownLimitUser,
        IssueCode::UnknownPolicy,
        IssueCode::UnknownUserOverride,
        IssueCode::OverrideExpired,
        IssueCode::OverrideExpiring,
        IssueCode::UnlicensedUser,
    ];

    #[test]
    fn codes_serialise_as_their_names_and_back() {
        for code in ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<IssueCode>(&json).unwrap(), code);
        }
        assert!(serde_json::from_str::<IssueCode>("\"no-such-code\"").is_err());
    }

    #[test]
    fn codes_sort_by_name() {
        let mut sorted = ALL;
        sorted.sort();
        let names: Vec<_> = sorted.iter().map(|c| c.as_str()).collect();
        let mut by_name = names.clone();
        by_name.sort();
        assert_eq!(names, by_name);
        let a = Issue::tenant(IssueCode::UnknownPolicy, "b".into());
        let b = Issue::user(IssueCode::RangeExhausted, "a@x", "z".into());
        assert!(b < a, "range-exhausted sorts before unknown-policy");
    }
}

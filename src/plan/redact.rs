//! A plan with the people in it hidden, for showing where more people can
//! read than the tenant's admins (a pull-request comment): display names,
//! user principal names and phone numbers become stable short hashes, so a
//! reviewer can still follow one user or number across the comment.
//!
//! The hash is keyed: with a secret key (`ROSTER_REDACT_KEY` in CI) nobody
//! without it can test guesses; without one, the tenant name is the key,
//! which hides values from a casual reader but not from someone who tries
//! every number of a known range. Only what is shown changes: a saved plan
//! (`--out`) always holds the real values. Pure.

use sha2::{Digest, Sha256};

use super::{Plan, UserRef};

/// What to hide.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Redact {
    /// Display names and user principal names.
    pub names: bool,
    /// Telephone numbers.
    pub numbers: bool,
}

impl Redact {
    /// Parse `names`, `numbers` or `names,numbers`.
    pub fn parse(s: &str) -> Result<Redact, String> {
        let mut r = Redact::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "names" => r.names = true,
                "numbers" => r.numbers = true,
                other => {
                    return Err(format!(
                        "`{other}` cannot be redacted; write `names`, `numbers` or `names,numbers`"
                    ));
                }
            }
        }
        Ok(r)
    }

    pub fn any(self) -> bool {
        self.names || self.numbers
    }
}

/// A keyed short hash of `value` (without regard to case).
fn hash(key: &str, kind: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update([0]);
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(value.to_lowercase().as_bytes());
    let d = h.finalize();
    d[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Every telephone number in `text` (an action's number in a rendered
/// plan, a number in a message) replaced by its keyed hash.
pub fn numbers_in_text(text: &str, key: &str) -> String {
    scrub_numbers(text, &|n| format!("number-{}", hash(key, "number", n)))
}

/// `plan` with the names `what` asks for replaced by keyed hashes, in the
/// users and in every message (numbers in messages too); the numbers of
/// actions are typed, so [`numbers_in_text`] hides them in the rendering.
pub fn redact(plan: &Plan, what: Redact, key: &str) -> Plan {
    let mut out = plan.clone();
    if !what.any() {
        return out;
    }
    let hash = |kind: &str, value: &str| hash(key, kind, value);
    // Every text to replace in messages, longest first so a UPN is
    // replaced before a shorter name inside it.
    let mut replace: Vec<(String, String)> = Vec::new();
    let user = |u: &mut UserRef, replace: &mut Vec<(String, String)>| {
        if !what.names {
            return;
        }
        let h = hash("user", &u.upn);
        let upn = format!("user-{h}");
        replace.push((u.upn.clone(), upn.clone()));
        if let Some(n) = u.display_name.take() {
            replace.push((n, format!("name-{h}")));
            u.display_name = Some(format!("name-{h}"));
        }
        u.upn = upn;
    };
    for c in &mut out.changes {
        user(&mut c.user, &mut replace);
    }
    for u in &mut out.unmatched {
        user(u, &mut replace);
    }
    for c in &mut out.conflicts {
        user(&mut c.user, &mut replace);
    }
    for q in &mut out.quarantine {
        if what.names && !q.holder.is_empty() {
            let h = format!("user-{}", hash("user", &q.holder));
            replace.push((q.holder.clone(), h.clone()));
            q.holder = h;
        }
    }
    for l in &mut out.limit.users {
        if what.names {
            *l = format!("user-{}", hash("user", l));
        }
    }
    for issue in out.warnings.iter_mut().chain(out.errors.iter_mut()) {
        if let Some(u) = &mut issue.user
            && what.names
        {
            replace.push((u.clone(), format!("user-{}", hash("user", u))));
        }
    }
    replace.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    replace.dedup();
    let scrub = |text: &str| -> String {
        let mut t = text.to_string();
        for (from, to) in &replace {
            if !from.is_empty() {
                t = t.replace(from.as_str(), to);
            }
        }
        if what.numbers {
            t = numbers_in_text(&t, key);
        }
        t
    };
    for d in out.conflicts.iter_mut().flat_map(|c| &mut c.differences) {
        *d = scrub(d);
    }
    for issue in out.warnings.iter_mut().chain(out.errors.iter_mut()) {
        issue.message = scrub(&issue.message);
        if let Some(u) = &issue.user {
            issue.user = Some(scrub(u));
        }
    }
    out
}

/// Replace every `+` followed by 8 to 15 digits (an E.164 number) in `text`.
fn scrub_numbers(text: &str, with: &dyn Fn(&str) -> String) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        if bytes[i] == b'+' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if (8..=15).contains(&digits) {
                out.push_str(&text[last..i]);
                out.push_str(&with(&text[i..i + 1 + digits]));
                i += 1 + digits;
                last = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::{Issue, IssueCode};
    use crate::plan::{Action, Change, Reason, test_plan};

    fn plan() -> Plan {
        let n = |s: &str| s.parse().unwrap();
        let mut p = test_plan(vec![Change {
            user: UserRef {
                id: "id-1".into(),
                upn: "Amy@contoso.com".into(),
                display_name: Some("Amy Pond".into()),
            },
            persona: Some("sales".into()),
            reason: Reason::Override,
            cause: None,
            live_fingerprint: String::new(),
            actions: vec![
                Action::ReleaseNumber {
                    number: n("+15551230000"),
                },
                Action::AssignNumber {
                    number: n("+442071230001"),
                    number_type: crate::numbers::NumberType::DirectRouting,
                    range: Some("london".into()),
                    location_id: None,
                },
            ],
        }]);
        p.errors.push(Issue::user(
            IssueCode::PinnedNumberTaken,
            "Amy@contoso.com",
            "`+442071230009` is pinned to `Amy@contoso.com` but `Bob Kelly` holds it".into(),
        ));
        p
    }

    #[test]
    fn names_and_numbers_become_stable_hashes_everywhere() {
        let both = Redact::parse("names,numbers").unwrap();
        let r = redact(&plan(), both, "k");
        let json = numbers_in_text(&r.to_json(), "k");
        for secret in ["Amy", "amy@", "+1555", "+4420"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        // The same value gets the same hash wherever it appears.
        let upn = &r.changes[0].user.upn;
        assert!(
            r.errors[0].message.contains(upn.as_str()),
            "{}",
            r.errors[0].message
        );
        assert_eq!(r.errors[0].user.as_deref(), Some(upn.as_str()));
        assert_eq!(redact(&plan(), both, "k"), r, "stable");
        assert_ne!(redact(&plan(), both, "other key"), r, "keyed");
        // Policies, personas and structure stay.
        assert_eq!(r.changes[0].persona.as_deref(), Some("sales"));
        assert_eq!(r.changes[0].actions.len(), 2);
    }

    #[test]
    fn conflicts_and_quarantine_holders_are_hidden_too() {
        let mut p = plan();
        p.conflicts.push(crate::plan::Conflict {
            user: UserRef {
                id: "id-2".into(),
                upn: "bob@contoso.com".into(),
                display_name: None,
            },
            differences: vec!["number +442071230007: held now, not after the apply".into()],
        });
        p.quarantine.push(crate::plan::Quarantined {
            number: "+442071230003".parse().unwrap(),
            range: "london".into(),
            until: "2027-01-01T00:00:00Z".into(),
            released_at: String::new(),
            holder: "cat@contoso.com".into(),
        });
        let r = redact(&p, Redact::parse("names,numbers").unwrap(), "k");
        let json = numbers_in_text(&r.to_json(), "k");
        for secret in ["bob@", "cat@", "+4420"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert!(r.quarantine[0].holder.starts_with("user-"));
    }

    #[test]
    fn only_what_is_asked_is_hidden() {
        let names = redact(&plan(), Redact::parse("names").unwrap(), "k");
        assert!(names.to_json().contains("+442071230001"));
        assert!(names.errors[0].message.contains("+442071230009"));
        assert!(!names.to_json().contains("Amy"));
        let numbers = redact(&plan(), Redact::parse("numbers").unwrap(), "k");
        assert!(numbers.to_json().contains("Amy@contoso.com"));
        assert!(!numbers.errors[0].message.contains("+4420"));
        assert!(Redact::parse("emails").is_err());
        assert_eq!(redact(&plan(), Redact::default(), "k"), plan());
    }
}

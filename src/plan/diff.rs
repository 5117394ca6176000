//! Desired versus live: the actions that turn one into the other, each
//! user's worked out on its own (split over the cores, joined in the
//! users' order). Pure.

use std::collections::{BTreeSet, HashMap};

use super::fingerprint::fingerprint;
use super::*;
use crate::desired::{self, DesiredState, split};
use crate::live::{LiveState, NumberAssignment};
use crate::rules::lowercase;

/// What a plan records besides the changes (no clock inside the core: the
/// caller passes the time).
#[derive(Debug, Clone)]
pub struct Meta {
    pub created_at: String,
    pub digest: String,
    pub git: Option<GitInfo>,
    pub tenant: TenantInfo,
    /// Lower-cased UPNs (or ids) of `--user`; empty for every user.
    pub limit: Vec<String>,
}

pub fn diff(desired: &DesiredState, live: &LiveState, meta: Meta) -> Plan {
    diff_split(desired, live, meta, split::threads_for(desired.users.len()))
}

/// [`diff`] with the users split over `threads` threads (the plan is the
/// same for any number).
pub(crate) fn diff_split(
    desired: &DesiredState,
    live: &LiveState,
    meta: Meta,
    threads: usize,
) -> Plan {
    let limit: BTreeSet<String> = meta.limit.iter().map(|u| u.trim().to_lowercase()).collect();
    // As `LiveState::find_user` matches: UPNs trimmed, Unicode-aware case.
    let in_limit = |upn: &str, id: &str| {
        limit.is_empty()
            || limit.contains(&upn.trim().to_lowercase())
            || limit.contains(&id.to_lowercase())
    };
    // Each user's actions, split over the cores (in the users' order).
    let acting: Vec<(&desired::DesiredUser, Vec<Action>)> =
        split::map_chunks_with(desired.users.len(), threads, |range| {
            desired.users[range]
                .iter()
                .filter(|d| {
                    let user = &live.users[d.user];
                    in_limit(&user.upn, &user.id)
                })
                .map(|d| (d, actions(d, &live.users[d.user])))
                .filter(|(_, actions)| !actions.is_empty())
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
    // The numbers held by the users that change (as `numbers_by_holder`
    // gives them, without indexing everyone else's).
    let mut held: HashMap<&str, Vec<&NumberAssignment>, foldhash::fast::FixedState> = acting
        .iter()
        .map(|(d, _)| (live.users[d.user].id.as_str(), Vec::new()))
        .collect();
    for n in live.numbers.values().filter(|n| n.is_held()) {
        if let Some(v) = n.target.as_deref().and_then(|t| held.get_mut(t)) {
            v.push(n);
        }
    }
    let prints: Vec<String> = split::map_chunks_with(acting.len(), threads, |range| {
        acting[range]
            .iter()
            .map(|(d, _)| {
                let user = &live.users[d.user];
                fingerprint(user, &held[user.id.as_str()])
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let mut changes: Vec<Change> = acting
        .into_iter()
        .zip(prints)
        .map(|((d, actions), live_fingerprint)| Change {
            user: user_ref(live, d.user),
            persona: d.persona.clone(),
            reason: d.reason.clone(),
            cause: None,
            live_fingerprint,
            actions,
        })
        .collect();
    // Users are already in lower-cased UPN order; keep it explicit.
    changes.sort_by_cached_key(|c| (lowercase(&c.user.upn).into_owned(), c.user.id.clone()));
    let mut unmatched: Vec<UserRef> = desired
        .unmatched
        .iter()
        .filter(|&&i| in_limit(&live.users[i].upn, &live.users[i].id))
        .map(|&i| user_ref(live, i))
        .collect();
    unmatched.sort_by_cached_key(|u| (lowercase(&u.upn).into_owned(), u.id.clone()));
    // Issues name users by UPN; a limit may name them by object id, so
    // resolve the limit to the UPNs it covers.
    // (Without a limit every issue is kept: nothing to resolve.)
    let limit_upns: BTreeSet<String> = if limit.is_empty() {
        BTreeSet::new()
    } else {
        live.users
            .iter()
            .filter(|u| in_limit(&u.upn, &u.id))
            .map(|u| u.upn.trim().to_lowercase())
            .collect()
    };
    let keep = |i: &&Issue| match &i.user {
        Some(u) if !limit.is_empty() => limit_upns.contains(&u.trim().to_lowercase()),
        _ => true,
    };
    let mut warnings: Vec<Issue> = desired.warnings.iter().filter(keep).cloned().collect();
    for l in &limit {
        if live.find_user_index(l).is_none() {
            warnings.push(Issue::user(
                IssueCode::UnknownLimitUser,
                l.clone(),
                format!(
                    "`--user {l}` names no user in the tenant (give a user principal name or an object id)"
                ),
            ));
        }
    }
    warnings.sort();
    let mut plan = Plan {
        changes,
        unmatched,
        quarantine: desired.quarantined.clone(),
        warnings,
        errors: desired.errors.iter().filter(keep).cloned().collect(),
        ..Plan::headed(meta, &limit, desired.in_scope)
    };
    plan.recount();
    plan
}

fn user_ref(live: &LiveState, i: usize) -> UserRef {
    let u = &live.users[i];
    UserRef {
        id: u.id.clone(),
        upn: u.upn.clone(),
        display_name: u.display_name.clone(),
    }
}

fn actions(d: &desired::DesiredUser, user: &crate::live::User) -> Vec<Action> {
    let mut out = Vec::new();
    for (ty, want) in d.policies.iter() {
        out.extend(policy_action(ty, user.policies.get(ty), want.as_ref()));
    }
    let mut release: Vec<_> = d.release.clone();
    release.sort();
    release.dedup();
    for n in release {
        out.push(Action::ReleaseNumber { number: n });
    }
    if let Some(a) = &d.assign {
        out.push(Action::AssignNumber {
            number: a.number,
            number_type: a.number_type,
            range: a.range.clone(),
            location_id: a.location_id.clone(),
        });
    }
    out.sort_by(Action::cmp_order);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::desired::{DesiredUser, NewNumber};
    use crate::live::{NumberAssignment, User};
    use crate::numbers::{E164, NumberType};

    fn e164(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    fn meta(limit: &[&str]) -> Meta {
        Meta {
            created_at: "2026-01-01T00:00:00Z".into(),
            digest: "sha256:0".into(),
            git: None,
            tenant: TenantInfo {
                name: "t".into(),
                provider: "file".into(),
            },
            limit: limit.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Amy (two direct assignments), Bob (holds one number), Cat (nothing,
    /// an upper-case id), at indexes 0, 1, 2.
    fn live() -> LiveState {
        let mut amy = User::new("id-amy", "Amy@x.com");
        amy.display_name = Some("Amy".into());
        amy.policies
            .insert("TenantDialPlan".into(), "London".into());
        amy.policies
            .insert("TeamsMeetingPolicy".into(), "Old".into());
        let mut live = LiveState {
            tenant_id: "t".into(),
            users: vec![
                // Ids are matched without regard to case too.
                User::new("ID-Cat", "cat@x.com"),
                User::new("id-bob", "bob@x.com"),
                amy,
            ],
            ..LiveState::default()
        };
        let n = e164("+442071230001");
        live.numbers.insert(
            n,
            NumberAssignment {
                number: n,
                number_type: Some(NumberType::DirectRouting),
                target: Some("id-bob".into()),
                category: Some("primary".into()),
                status: "userAssigned".into(),
                capabilities: vec!["userAssignment".into()],
                location_id: None,
            },
        );
        live.finish();
        assert_eq!(live.users[0].upn, "Amy@x.com");
        live
    }

    fn want(user: usize, policies: &[(&str, Option<&str>)]) -> DesiredUser {
        DesiredUser {
            user,
            persona: Some("p".into()),
            reason: Reason::Rule { name: "r".into() },
            policies: Arc::new(
                policies
                    .iter()
                    .map(|(t, n)| (t.to_string(), n.map(str::to_string)))
                    .collect::<BTreeMap<_, _>>(),
            ),
            release: Vec::new(),
            assign: None,
        }
    }

    fn desired(users: Vec<DesiredUser>) -> DesiredState {
        DesiredState {
            in_scope: users.len(),
            users,
            ..DesiredState::default()
        }
    }

    /// Every user wants a new calling policy: each has one change.
    fn everyone_changes() -> DesiredState {
        desired(
            (0..3)
                .map(|i| want(i, &[("TeamsCallingPolicy", Some("Calls"))]))
                .collect(),
        )
    }

    fn changed_upns(plan: &Plan) -> Vec<&str> {
        plan.changes.iter().map(|c| c.user.upn.as_str()).collect()
    }

    fn assign(ty: &str, from: Option<&str>, to: &str) -> Action {
        Action::AssignPolicy {
            policy_type: ty.into(),
            from: from.map(str::to_string),
            to: to.into(),
        }
    }

    #[test]
    fn policies_are_assigned_changed_and_removed() {
        let live = live();
        let d = desired(vec![want(
            0,
            &[
                ("TenantDialPlan", Some("Dublin")),
                ("TeamsMeetingPolicy", None),
                ("TeamsCallingPolicy", Some("Calls")),
                // Neither held nor wanted: nothing to do.
                ("OnlineVoiceRoutingPolicy", None),
            ],
        )]);
        let plan = diff(&d, &live, meta(&[]));
        assert_eq!(plan.changes.len(), 1);
        let c = &plan.changes[0];
        assert_eq!(c.user.id, "id-amy");
        assert_eq!(c.user.display_name.as_deref(), Some("Amy"));
        assert_eq!(c.persona.as_deref(), Some("p"));
        assert_eq!(c.reason, Reason::Rule { name: "r".into() });
        assert_eq!(c.cause, None);
        assert_eq!(
            c.actions,
            vec![
                assign("TeamsCallingPolicy", None, "Calls"),
                Action::RemovePolicy {
                    policy_type: "TeamsMeetingPolicy".into(),
                    from: "Old".into(),
                },
                assign("TenantDialPlan", Some("London"), "Dublin"),
            ]
        );
    }

    #[test]
    fn policy_names_compare_without_regard_to_case() {
        let live = live();
        let d = desired(vec![want(
            0,
            &[
                ("TenantDialPlan", Some("LONDON")),
                ("TeamsMeetingPolicy", Some("old")),
            ],
        )]);
        let plan = diff(&d, &live, meta(&[]));
        assert!(plan.changes.is_empty(), "{:?}", plan.changes);
        assert_eq!(plan.summary.users_in_scope, 1);
        assert_eq!(plan.summary.users_changed, 0);
    }

    #[test]
    fn releases_come_before_the_assignment_in_text_order() {
        let live = live();
        let mut bob = want(1, &[("TenantDialPlan", Some("London"))]);
        // Numeric order would put the 8-digit number first; the plan shows
        // numbers by their text. A number named twice is released once.
        bob.release = ["+99999999", "+442071230001", "+4420712300", "+442071230001"]
            .iter()
            .map(|n| e164(n))
            .collect();
        bob.assign = Some(NewNumber {
            number: e164("+442071230005"),
            number_type: NumberType::DirectRouting,
            range: Some("london".into()),
            location_id: Some("loc-1".into()),
        });
        let plan = diff(&desired(vec![bob]), &live, meta(&[]));
        let release = |n: &str| Action::ReleaseNumber { number: e164(n) };
        assert_eq!(
            plan.changes[0].actions,
            vec![
                assign("TenantDialPlan", None, "London"),
                release("+4420712300"),
                release("+442071230001"),
                release("+99999999"),
                Action::AssignNumber {
                    number: e164("+442071230005"),
                    number_type: NumberType::DirectRouting,
                    range: Some("london".into()),
                    location_id: Some("loc-1".into()),
                },
            ]
        );
        assert_eq!(plan.summary.numbers_released, 3);
        assert_eq!(plan.summary.numbers_assigned, 1);
        assert_eq!(plan.summary.policies_assigned, 1);
    }

    #[test]
    fn changes_are_in_upn_order_whatever_the_desired_order() {
        let live = live();
        let mut d = everyone_changes();
        d.users.reverse();
        let plan = diff(&d, &live, meta(&[]));
        assert_eq!(changed_upns(&plan), ["Amy@x.com", "bob@x.com", "cat@x.com"]);
    }

    #[test]
    fn a_limit_names_users_by_upn_or_object_id_in_any_case() {
        let live = live();
        let d = everyone_changes();
        let plan = diff(&d, &live, meta(&[" AMY@X.COM "]));
        assert_eq!(changed_upns(&plan), ["Amy@x.com"]);
        assert_eq!(plan.limit.users, ["amy@x.com"]);
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);

        let plan = diff(&d, &live, meta(&["ID-BOB"]));
        assert_eq!(changed_upns(&plan), ["bob@x.com"]);
        assert_eq!(plan.limit.users, ["id-bob"]);
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);

        let plan = diff(&d, &live, meta(&["cat@x.com", "id-amy"]));
        assert_eq!(changed_upns(&plan), ["Amy@x.com", "cat@x.com"]);
        assert_eq!(plan.summary.users_in_scope, 3);
        assert_eq!(plan.summary.users_changed, 2);
    }

    #[test]
    fn a_limit_naming_no_user_warns() {
        let live = live();
        let plan = diff(
            &everyone_changes(),
            &live,
            meta(&["nobody@x.com", "amy@x.com"]),
        );
        assert_eq!(changed_upns(&plan), ["Amy@x.com"]);
        assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
        let w = &plan.warnings[0];
        assert_eq!(w.code, IssueCode::UnknownLimitUser);
        assert_eq!(w.user.as_deref(), Some("nobody@x.com"));
        assert!(w.message.contains("`--user nobody@x.com`"), "{}", w.message);
        assert_eq!(plan.summary.warnings, 1);
    }

    #[test]
    fn issues_about_users_follow_the_limit() {
        let live = live();
        let mut d = everyone_changes();
        let user = |code, upn: &str| Issue::user(code, upn, format!("about {upn}"));
        d.warnings = vec![
            user(IssueCode::UnknownUserOverride, "bob@x.com"),
            Issue::tenant(IssueCode::UnknownGroup, "no group".into()),
            // Issues name users as the manifests wrote them.
            user(IssueCode::UnknownUserOverride, "AMY@x.com"),
        ];
        d.errors = vec![
            user(IssueCode::RangeExhausted, "bob@x.com"),
            Issue::tenant(IssueCode::UnknownPolicy, "no policy".into()),
        ];

        // Unlimited: every issue, warnings sorted.
        let plan = diff(&d, &live, meta(&[]));
        let mut sorted = d.warnings.clone();
        sorted.sort();
        assert_eq!(plan.warnings, sorted);
        assert_eq!(plan.errors, d.errors);

        // Limited by object id: Amy's issues and the tenant's stay.
        let plan = diff(&d, &live, meta(&["id-amy"]));
        let users = |issues: &[Issue]| -> Vec<Option<String>> {
            issues.iter().map(|i| i.user.clone()).collect()
        };
        // Sorted by code: `unknown-group` before `unknown-user-override`.
        assert_eq!(users(&plan.warnings), [None, Some("AMY@x.com".into())]);
        assert_eq!(users(&plan.errors), [None]);
        assert_eq!(plan.summary.warnings, 2);
        assert_eq!(plan.summary.errors, 1);
        assert!(plan.has_errors());

        // Limited by UPN: Bob's error is kept.
        let plan = diff(&d, &live, meta(&["bob@x.com"]));
        assert_eq!(users(&plan.errors), [Some("bob@x.com".into()), None]);
    }

    #[test]
    fn unmatched_users_are_listed_in_upn_order_within_the_limit() {
        let live = live();
        let d = DesiredState {
            unmatched: vec![2, 0],
            in_scope: 2,
            ..DesiredState::default()
        };
        let plan = diff(&d, &live, meta(&[]));
        let upns: Vec<&str> = plan.unmatched.iter().map(|u| u.upn.as_str()).collect();
        assert_eq!(upns, ["Amy@x.com", "cat@x.com"]);
        assert_eq!(plan.unmatched[0].display_name.as_deref(), Some("Amy"));
        assert_eq!(plan.summary.unmatched, 2);
        assert!(!plan.has_changes());

        let plan = diff(&d, &live, meta(&["id-cat"]));
        let upns: Vec<&str> = plan.unmatched.iter().map(|u| u.upn.as_str()).collect();
        assert_eq!(upns, ["cat@x.com"]);
        assert_eq!(plan.summary.unmatched, 1);
    }

    #[test]
    fn the_summary_counts_the_plan() {
        let live = live();
        let mut amy = want(
            0,
            &[
                ("TenantDialPlan", Some("Dublin")),
                ("TeamsMeetingPolicy", None),
            ],
        );
        amy.assign = Some(NewNumber {
            number: e164("+442071230002"),
            number_type: NumberType::DirectRouting,
            range: None,
            location_id: None,
        });
        let mut bob = want(1, &[]);
        bob.reason = Reason::Leaver;
        bob.persona = None;
        bob.release = vec![e164("+442071230001")];
        // Cat wants what she has: in scope, unchanged.
        let cat = want(2, &[("TenantDialPlan", None)]);
        let mut d = desired(vec![amy, bob, cat]);
        d.in_scope = 4;
        d.unmatched = vec![2];
        d.warnings = vec![Issue::tenant(IssueCode::UnknownGroup, "g".into())];
        let plan = diff(&d, &live, meta(&[]));
        assert_eq!(
            plan.summary,
            Summary {
                users_in_scope: 4,
                users_changed: 2,
                policies_assigned: 1,
                policies_removed: 1,
                numbers_assigned: 1,
                numbers_released: 1,
                unmatched: 1,
                warnings: 1,
                errors: 0,
            }
        );
        assert_eq!(plan.changes[1].reason, Reason::Leaver);
        assert_eq!(plan.created_at, "2026-01-01T00:00:00Z");
        assert_eq!(plan.config.digest, "sha256:0");
        assert_eq!(plan.format_version, FORMAT_VERSION);
    }

    #[test]
    fn each_change_carries_its_users_live_fingerprint() {
        let live = live();
        let plan = diff(&everyone_changes(), &live, meta(&[]));
        let held = live.numbers_by_holder();
        for (c, user) in plan.changes.iter().zip(&live.users) {
            let numbers = held.get(user.id.as_str()).cloned().unwrap_or_default();
            assert_eq!(
                c.live_fingerprint,
                fingerprint(user, &numbers),
                "{}",
                c.user.upn
            );
        }
        // Bob's held number is part of his fingerprint.
        assert_ne!(
            plan.changes[1].live_fingerprint,
            fingerprint(&live.users[1], &[])
        );
        let prints: BTreeSet<&str> = plan
            .changes
            .iter()
            .map(|c| c.live_fingerprint.as_str())
            .collect();
        assert_eq!(prints.len(), 3);
    }

    #[test]
    fn a_limit_matches_as_user_lookup_does() {
        // Non-ASCII case and stray spaces around a UPN: the user is planned
        // and not reported unknown (as `LiveState::find_user` finds them).
        let mut live = LiveState {
            users: vec![
                User::new("id-asa", "ÅSA@x.com"),
                User::new("id-dan", " dan@x.com "),
            ],
            ..LiveState::default()
        };
        live.finish();
        let d = desired(vec![
            want(0, &[("TenantDialPlan", Some("London"))]),
            want(1, &[("TenantDialPlan", Some("London"))]),
        ]);
        for limit in ["åsa@x.com", "dan@x.com"] {
            assert!(live.find_user(limit).is_some(), "{limit}");
            let plan = diff(&d, &live, meta(&[limit]));
            assert_eq!(plan.changes.len(), 1, "{limit}: {:?}", plan.changes);
            assert!(
                plan.changes[0].user.upn.trim().to_lowercase() == limit,
                "{limit}"
            );
            assert!(plan.warnings.is_empty(), "{limit}: {:?}", plan.warnings);
        }
    }
}

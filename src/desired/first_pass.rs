//! Pass 1 of [`super::compute_with`] for a chunk of the users: each user's
//! decision, persona, policies, and which of its numbers go or whether it
//! wants one. Each user on its own, so chunks run on their own threads
//! (see [`super::split`]); numbers are allocated after, in one sequential
//! pass. Pure: no I/O.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use super::numbering::{self, Want};
use super::{DesiredUser, Engine, FastMap, HeldNumbers, Reason, Verdict, policies_of};
use crate::live::{LiveState, PolicyType};
use crate::manifest::{Manifest, NumberRange, Persona};

type Policies = Arc<BTreeMap<PolicyType, Option<String>>>;

/// What pass 1 reads, shared by every chunk.
pub(super) struct Pass1<'a, 'm> {
    pub manifest: &'m Manifest,
    pub live: &'a LiveState,
    pub engine: &'a Engine<'m>,
    pub held: &'a HeldNumbers<'a>,
    /// Every persona's policies, by persona name.
    pub persona_policies: &'a FastMap<&'m str, Policies>,
    /// Every persona's number ranges, by persona name.
    pub persona_ranges: &'a FastMap<&'m str, Vec<&'m NumberRange>>,
    /// The persona each rule names (`None` when unknown), by rule index.
    pub rule_personas: &'a [Option<&'m Persona>],
    /// Every number some range reserves.
    pub reserved: &'a numbering::Reserved,
    /// What a leaver gets.
    pub leaver_policies: &'a Policies,
    /// `leavers release-number`.
    pub release_leavers: bool,
}

/// Pass 1 of a chunk of the users.
#[derive(Default)]
pub(super) struct Part {
    pub users: Vec<DesiredUser>,
    /// Indexes into [`LiveState::users`].
    pub unmatched: Vec<usize>,
    pub in_scope: usize,
    /// Index into this part's `users`, and what it wants.
    pub wants: Vec<(usize, Want)>,
}

impl Pass1<'_, '_> {
    pub fn run(&self, range: Range<usize>) -> Part {
        let mut part = Part {
            users: Vec::with_capacity(range.len()),
            ..Part::default()
        };
        for i in range {
            self.one(i, &mut part);
        }
        part
    }

    fn one(&self, i: usize, part: &mut Part) {
        let (manifest, live) = (self.manifest, self.live);
        let decision = self.engine.decide(live, i, false);
        if !decision.verdict.in_scope() {
            return;
        }
        part.in_scope += 1;
        let user_numbers = self.held.of_user(i);
        let reason = match decision.verdict {
            Verdict::Leaver => {
                let mut d = DesiredUser {
                    user: i,
                    persona: None,
                    reason: Reason::Leaver,
                    policies: self.leaver_policies.clone(),
                    release: Vec::new(),
                    assign: None,
                };
                if self.release_leavers {
                    d.release = user_numbers.iter().map(|n| n.number).collect();
                }
                part.users.push(d);
                return;
            }
            Verdict::Unmatched => {
                part.unmatched.push(i);
                return;
            }
            Verdict::Override(_) => Reason::Override,
            Verdict::Rule(r) => Reason::Rule {
                name: manifest.rules[r].name.value.clone(),
            },
            Verdict::Ignored | Verdict::OutOfScope => return,
        };
        let persona = match decision.verdict {
            Verdict::Rule(r) => self.rule_personas[r],
            v => v.persona(manifest).and_then(|p| manifest.persona(p)),
        };
        let Some(persona) = persona else {
            // Validation reports unknown personas; nothing to do here.
            return;
        };
        let mut d = DesiredUser {
            user: i,
            persona: Some(persona.name.value.clone()),
            reason,
            policies: self
                .persona_policies
                .get(persona.name.value.as_str())
                .cloned()
                .unwrap_or_else(|| Arc::new(policies_of(persona, live))),
            release: Vec::new(),
            assign: None,
        };
        let pin = decision
            .user_override
            .and_then(|o| o.number.as_ref().map(|n| (n.value, o.take_quarantined)));
        let ranges = self.persona_ranges.get(persona.name.value.as_str());
        let want = numbering::number_decision(
            ranges.map_or(&[][..], Vec::as_slice),
            self.reserved,
            persona,
            pin,
            user_numbers,
            &mut d,
        );
        if let Some(w) = want {
            part.wants.push((part.users.len(), w));
        }
        part.users.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Context, DesiredState, compute_split};
    use crate::live::{LiveState, NumberAssignment, User};
    use crate::numbers::{E164, NumberType};

    const MANIFEST: &str = r#"
tenant "t" {
    scope {
        not { userPrincipalName starts-with="svc-" }
    }
    leavers release-number=#true
}
range "dr" type="direct-routing" {
    block "+442071230000" "+442071230999"
    reserve "+442071230000"
}
persona "office" {
    policies {
        TeamsCallingPolicy "AllowCalling"
    }
    number "dr"
}
persona "kiosk" {
    policies {
        TeamsCallingPolicy "DisallowCalling"
    }
    number #false
}
rule "Kiosks" persona="kiosk" {
    when {
        department "Retail" "Warehouse"
        not { jobTitle contains="manager" }
    }
}
rule "Offices" persona="office" {
    when {
        city "London"
    }
}
user "u7@x.com" persona="office" number="+442071230500"
user "U11@X.com" ignore=#true
"#;

    /// A tenant of `n` users, varied enough to meet every verdict: out of
    /// scope, ignored, leavers, overrides, both rules, unmatched, with
    /// numbers held, kept and released, and attributes in any case.
    fn tenant(n: usize) -> LiveState {
        let mut live = LiveState::default();
        live.add_policy("TeamsCallingPolicy", "AllowCalling", "p1");
        live.add_policy("TeamsCallingPolicy", "DisallowCalling", "p2");
        for i in 0..n {
            let upn = if i % 17 == 0 {
                format!("svc-{i}@x.com")
            } else {
                format!("u{i}@x.com")
            };
            let mut u = User::new(format!("id-{i}"), upn);
            u.account_enabled = i % 13 != 0;
            let dept = ["Retail", " WAREHOUSE ", "Sales", "retail"][i % 4];
            u.set_attr("department", Some(dept.into()));
            let title = ["Store Manager", "Clerk", "Ops"][i % 3];
            u.set_attr("jobTitle", Some(title.into()));
            if i % 5 != 0 {
                u.set_attr("city", Some(["London", "LONDON ", "Leeds"][i % 3].into()));
            }
            if i % 6 == 0 {
                u.policies
                    .insert("TeamsCallingPolicy", "AllowCalling".into());
            }
            if i % 4 == 1 {
                let num = E164::parse(&format!("+4420712{:05}", 30000 + i)).unwrap();
                let held = NumberAssignment::for_test(
                    num,
                    NumberType::DirectRouting,
                    Some(&format!("id-{i}")),
                );
                live.numbers.insert(num, held);
            }
            live.users.push(u);
        }
        live.finish();
        live
    }

    fn same(a: &DesiredState, b: &DesiredState, what: &str) {
        assert_eq!(a.users, b.users, "{what}");
        assert_eq!(a.unmatched, b.unmatched, "{what}");
        assert_eq!(a.in_scope, b.in_scope, "{what}");
        assert_eq!(a.warnings, b.warnings, "{what}");
        assert_eq!(a.errors, b.errors, "{what}");
        assert_eq!(a.quarantined, b.quarantined, "{what}");
    }

    #[test]
    fn the_desired_state_does_not_depend_on_the_split() {
        let loaded = crate::manifest::parse_str("m.kdl", MANIFEST);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let live = tenant(300);
        let ctx = Context::default();
        let one = compute_split(&loaded.manifest, &live, &ctx, 1);
        // Every kind of outcome is there to be split.
        assert!(
            one.users
                .iter()
                .any(|d| d.persona.as_deref() == Some("kiosk"))
        );
        assert!(
            one.users
                .iter()
                .any(|d| d.persona.as_deref() == Some("office"))
        );
        assert!(one.users.iter().any(|d| d.persona.is_none()));
        assert!(one.users.iter().any(|d| d.assign.is_some()));
        assert!(one.users.iter().any(|d| !d.release.is_empty()));
        assert!(!one.unmatched.is_empty());
        assert!(one.in_scope < live.users.len());
        for threads in [2, 3, 7, 8] {
            let split = compute_split(&loaded.manifest, &live, &ctx, threads);
            same(&one, &split, &format!("{threads} threads"));
        }
    }
}

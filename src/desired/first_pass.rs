//! Pass 1 of [`super::compute_with`] for a chunk of the users: each user's
//! decision, persona, policies, and which of its numbers go or whether it
//! wants one. Each user on its own, so chunks run on their own threads
//! (see [`super::split`]); numbers are allocated after, in one sequential
//! pass. Pure: no I/O.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use super::numbering::{self, Want};
use super::{DesiredUser, Engine, HeldNumbers, Reason, Verdict, policies_of};
use crate::live::LiveState;
use crate::manifest::Manifest;

type Policies = Arc<BTreeMap<String, Option<String>>>;

/// What pass 1 reads, shared by every chunk.
pub(super) struct Pass1<'a, 'm> {
    pub manifest: &'m Manifest,
    pub live: &'a LiveState,
    pub engine: &'a Engine<'m>,
    pub held: &'a HeldNumbers<'a>,
    /// Every persona's policies, by persona name.
    pub persona_policies: &'a HashMap<&'m str, Policies>,
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
        let persona = decision
            .verdict
            .persona(manifest)
            .and_then(|p| manifest.persona(p));
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
        let want = numbering::number_decision(manifest, persona, pin, user_numbers, &mut d);
        if let Some(w) = want {
            part.wants.push((part.users.len(), w));
        }
        part.users.push(d);
    }
}

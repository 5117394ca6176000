//! The decision for one user: the one place the order of precedence is
//! written, used by [`super::compute`] (for every user, without traces) and
//! by `roster explain` (for one user, with every condition's verdict), so
//! the explanation can never disagree with the plan.
//!
//! Order: a user override with `ignore`, then the tenant `scope`, then
//! leavers (disabled accounts), then a user override's persona, then the
//! first rule that matches. The verdict always comes from the fast
//! evaluator ([`rules::Index`]); `explain`'s trace of each condition comes
//! from the simple one, which agrees with it (tested in `rules`). Pure: no
//! I/O.

use super::keys::Keys;
use crate::catalog::AttrId;
use crate::live::{LiveState, User};
use crate::manifest::{Manifest, UserOverride};
use crate::rules::{self, Compiled, Conjunction, Index, Subject, Trace};

/// What decided a user's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict<'m> {
    /// A user override says `ignore`: roster never touches the user.
    Ignored,
    /// Outside the tenant `scope`: roster never touches the user.
    OutOfScope,
    /// The account is disabled: leaver handling, rules not evaluated.
    Leaver,
    /// A user override names this persona; rules not evaluated.
    Override(&'m str),
    /// The rule at this index of [`Manifest::rules`] matched first.
    Rule(usize),
    /// In scope, but no rule matches: roster leaves the user alone.
    Unmatched,
}

impl<'m> Verdict<'m> {
    /// Whether the user counts as in scope (everything roster manages or
    /// reports as unmatched).
    pub fn in_scope(self) -> bool {
        !matches!(self, Verdict::Ignored | Verdict::OutOfScope)
    }

    /// The persona the verdict gives, by name.
    pub fn persona(self, manifest: &'m Manifest) -> Option<&'m str> {
        match self {
            Verdict::Override(p) => Some(p),
            Verdict::Rule(r) => Some(manifest.rules[r].persona.value.as_str()),
            _ => None,
        }
    }
}

/// One user's decision, and (when asked for) how it was reached.
#[derive(Debug, Clone)]
pub struct Decision<'m> {
    pub verdict: Verdict<'m>,
    /// The user override that names this user, if any (its pin is used
    /// even when its persona is not).
    pub user_override: Option<&'m UserOverride>,
    pub trail: Option<Trail>,
}

/// Every condition's verdict on the way to a decision, for `explain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trail {
    /// The tenant `scope`, when there is one: whether it holds, and why.
    /// Recorded even for an ignored user.
    pub scope: Option<(bool, Vec<Trace>)>,
    /// The rules evaluated, in order, up to the first that holds (none when
    /// the decision was made before the rules).
    pub rules: Vec<RuleTrail>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTrail {
    /// Index into [`Manifest::rules`].
    pub rule: usize,
    pub holds: bool,
    pub conditions: Vec<Trace>,
}

/// Rules compiled against a live state, and the user overrides by key:
/// everything a decision needs, built once per plan.
pub struct Engine<'m> {
    pub manifest: &'m Manifest,
    pub scope: Vec<Compiled>,
    pub rules: Vec<Vec<Compiled>>,
    pub used: Vec<AttrId>,
    /// The atoms of `scope` and `rules`, and the two as the fast evaluator
    /// reads them.
    index: Index,
    fast_scope: Conjunction,
    fast_rules: Vec<Conjunction>,
    overrides: Overrides<'m>,
}

impl<'m> Engine<'m> {
    pub fn new(manifest: &'m Manifest, live: &LiveState) -> Self {
        Self::with_today(manifest, live, None)
    }

    /// [`Engine::new`], leaving out the user overrides that expired by
    /// `today` (`YYYY-MM-DD`): for their users the rules decide again.
    pub fn with_today(manifest: &'m Manifest, live: &LiveState, today: Option<&str>) -> Self {
        let settings = manifest.settings();
        let scope = settings
            .scope
            .as_ref()
            .map(|c| rules::compile(std::slice::from_ref(c), live))
            .unwrap_or_default();
        let rules: Vec<Vec<Compiled>> = manifest
            .rules
            .iter()
            .map(|r| rules::compile(&r.when, live))
            .collect();
        let mut used = Vec::new();
        rules::used_attributes(&scope, &mut used);
        for r in &rules {
            rules::used_attributes(r, &mut used);
        }
        let mut index = rules::IndexBuilder::default();
        let fast_scope = index.add(&scope);
        let fast_rules = rules.iter().map(|r| index.add(r)).collect();
        Engine {
            manifest,
            scope,
            rules,
            used,
            index: index.build(),
            fast_scope,
            fast_rules,
            overrides: Overrides::new(manifest, today),
        }
    }

    pub fn subject<'a>(&'a self, live: &'a LiveState, user: usize) -> Subject<'a> {
        Subject::new(&live.users[user], live, &self.index)
    }

    pub fn in_scope(&self, s: &Subject<'_>) -> bool {
        self.fast_scope.holds(s)
    }

    /// Index of the first rule that matches.
    pub fn first_match(&self, s: &Subject<'_>) -> Option<usize> {
        self.fast_rules.iter().position(|r| r.holds(s))
    }

    /// The user override for `user`: written with its UPN (without regard
    /// to case) or its object id.
    pub fn user_override(&self, user: &User) -> Option<&'m UserOverride> {
        self.overrides.get(user)
    }

    /// Decide for the user at `index` of `live.users`. With `traced`, the
    /// decision carries every condition's verdict (slower; for `explain`).
    pub fn decide(&self, live: &LiveState, index: usize, traced: bool) -> Decision<'m> {
        let user = &live.users[index];
        let user_override = self.overrides.get(user);
        let subject = self.subject(live, index);
        let mut trail = traced.then(Trail::default);
        if let (Some(t), Some(scope)) = (trail.as_mut(), &self.manifest.settings().scope) {
            let trace = rules::explain(std::slice::from_ref(scope), &self.scope, &subject);
            t.scope = Some((self.in_scope(&subject), trace));
        }
        let verdict = if user_override.is_some_and(|o| o.ignore) {
            Verdict::Ignored
        } else if !self.in_scope(&subject) {
            Verdict::OutOfScope
        } else if !user.account_enabled {
            Verdict::Leaver
        } else if let Some(p) = user_override.and_then(|o| o.persona.as_ref()) {
            Verdict::Override(p.value.as_str())
        } else {
            self.rules_verdict(&subject, trail.as_mut())
        };
        Decision {
            verdict,
            user_override,
            trail,
        }
    }

    /// First match over the rules, recording each one tried when tracing.
    fn rules_verdict(&self, subject: &Subject<'_>, trail: Option<&mut Trail>) -> Verdict<'m> {
        let Some(trail) = trail else {
            return self
                .first_match(subject)
                .map_or(Verdict::Unmatched, Verdict::Rule);
        };
        let rules = self
            .manifest
            .rules
            .iter()
            .zip(&self.rules)
            .zip(&self.fast_rules);
        for (i, ((rule, compiled), fast)) in rules.enumerate() {
            let holds = fast.holds(subject);
            trail.rules.push(RuleTrail {
                rule: i,
                holds,
                conditions: rules::explain(&rule.when, compiled, subject),
            });
            if holds {
                return Verdict::Rule(i);
            }
        }
        Verdict::Unmatched
    }

    /// [`Engine::decide`] for every user, without traces. The users are
    /// split over the machine's cores; the result does not depend on how.
    pub fn decide_all(&self, live: &LiveState) -> Vec<Decision<'m>> {
        super::split::map_chunks(live.users.len(), |range| {
            range
                .map(|i| self.decide(live, i, false))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The user overrides, by lower-cased UPN or object id.
struct Overrides<'m> {
    by_key: Keys<&'m UserOverride>,
}

impl<'m> Overrides<'m> {
    fn new(manifest: &'m Manifest, today: Option<&str>) -> Self {
        Overrides {
            by_key: Keys::new(
                manifest
                    .users
                    .iter()
                    .filter(|u| !today.is_some_and(|t| u.expired(t)))
                    .map(|u| (u.upn.value.trim().to_lowercase(), u)),
            ),
        }
    }

    fn get(&self, user: &User) -> Option<&'m UserOverride> {
        self.by_key
            .get(&user.upn)
            .or_else(|| self.by_key.get(&user.id))
            .map(|(_, o)| *o)
    }
}

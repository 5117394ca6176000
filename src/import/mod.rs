//! `roster import`: manifests that describe a live tenant as it is.
//!
//! From a [`LiveState`] and the tenant settings, [`import`] infers number
//! ranges from the inventory ([`ranges`]), personas from the policy bundles
//! users hold ([`personas`]), first-match rules over directory attributes
//! ([`rules`]), user overrides for what the rules do not explain, and one
//! rule test per persona from a real (anonymised) user ([`fixtures`]);
//! [`emit`] writes them as KDL or TOML in the canonical layout of
//! `roster fmt`. It then reads its own output back, runs its tests, and
//! plans it against the same live state, so the coverage it reports is the
//! plan's. Pure and deterministic: no I/O, no clock; the same tenant gives
//! byte-identical files.

mod emit;
mod fixtures;
mod personas;
mod ranges;
mod rules;
mod text;

use crate::desired::{Engine, Verdict};
use crate::live::LiveState;
use crate::manifest::{self, Manifest, Sources, Tenant};
use crate::numbers::E164;

pub use emit::Format;
use personas::{Fit, PersonaDraft};
use ranges::RangeDraft;
use rules::RuleDraft;

#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    /// Users a policy bundle needs to become a persona (default:
    /// [`default_min_persona_users`]).
    pub min_persona_users: Option<usize>,
}

/// The default persona threshold: 0.5% of the users described, at least 5.
pub fn default_min_persona_users(users: usize) -> usize {
    (users / 200).max(5)
}

/// What `import` wrote and how well it describes the tenant.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Relative path and text of every manifest, in path order.
    pub files: Vec<(String, String)>,
    pub report: Report,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub users: usize,
    /// In scope and enabled: the users import describes.
    pub described: usize,
    pub min_persona_users: usize,
    pub ranges: usize,
    pub personas: usize,
    pub rules: usize,
    pub tests: usize,
    /// Users the rules give the persona they hold today.
    pub by_rules: usize,
    /// Users with a user override (persona, pin or `ignore`).
    pub overrides: usize,
    /// Of those, users no persona describes (`ignore`).
    pub ignored: usize,
    /// The plan right after import: users in scope, changed, errors.
    pub plan_in_scope: usize,
    pub plan_changed: usize,
    pub plan_errors: usize,
}

impl Report {
    pub fn percent(part: usize, whole: usize) -> f64 {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The output does not read back as valid manifests: a bug in roster.
    #[error("the imported manifests are not valid ({0}): a bug in roster, please report it")]
    Invalid(String),
}

/// A user override as `import` writes it, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDraft {
    pub upn: String,
    pub persona: Option<String>,
    pub number: Option<E164>,
    pub ignore: bool,
    pub why: String,
}

/// Everything `import` writes, before it is text.
#[derive(Debug, Clone)]
pub struct Draft {
    pub tenant: Option<Tenant>,
    pub users_described: usize,
    pub ranges: Vec<RangeDraft>,
    pub personas: Vec<PersonaDraft>,
    pub rules: Vec<RuleDraft>,
    pub users: Vec<UserDraft>,
    pub tests: Vec<fixtures::TestDraft>,
}

/// Describe `live` as manifests, keeping the tenant settings as they are.
pub fn import(
    live: &LiveState,
    tenant: Option<&Tenant>,
    opts: &Options,
) -> Result<Imported, ImportError> {
    let settings_only = Manifest {
        tenant: tenant.cloned(),
        ..Manifest::default()
    };
    let engine = Engine::new(&settings_only, live);
    let pop: Vec<usize> = engine
        .decide_all(live)
        .iter()
        .enumerate()
        .filter(|(_, d)| d.verdict == Verdict::Unmatched)
        .map(|(i, _)| i)
        .collect();
    let min = opts
        .min_persona_users
        .unwrap_or_else(|| default_min_persona_users(pop.len()));
    let held = live.numbers_by_holder();
    let (ranges, index) = ranges::infer(live);
    let (people, keys) = personas::people(live, &pop, &held);
    let (personas, bundles) = personas::infer(live, &people, &keys, &ranges, &index, min);
    let fits = personas::fits(&people, &keys, &personas, &index);
    let goals = goals(&people, &bundles, &fits);
    let min_gain = (pop.len() / 1000).max(3);
    let learned = rules::learn(live, &pop, &goals, personas.len(), min_gain);
    let (users, by_rules) = overrides(live, &people, &fits, &personas, &learned);
    let mut draft = Draft {
        tenant: tenant.cloned(),
        users_described: pop.len(),
        ranges,
        personas,
        rules: learned.rules,
        users,
        tests: Vec::new(),
    };
    draft.tests = fixtures::tests(live, &draft, &people, &learned.rule_of, &goals.target);
    let (files, loaded) = emit_checked(&mut draft, opts.format)?;
    let plan = crate::plan::diff(
        &crate::desired::compute(&loaded.manifest, live),
        live,
        crate::plan::Meta {
            created_at: String::new(),
            digest: String::new(),
            git: None,
            tenant: crate::plan::TenantInfo {
                name: loaded.manifest.settings().name.clone(),
                provider: String::new(),
            },
            limit: Vec::new(),
        },
    );
    let report = Report {
        users: live.users.len(),
        described: pop.len(),
        min_persona_users: min,
        ranges: draft.ranges.len(),
        personas: draft.personas.len(),
        rules: draft.rules.len(),
        tests: draft.tests.len(),
        by_rules,
        overrides: draft.users.len(),
        ignored: draft.users.iter().filter(|u| u.ignore).count(),
        plan_in_scope: plan.summary.users_in_scope,
        plan_changed: plan.summary.users_changed,
        plan_errors: plan.errors.len(),
    };
    Ok(Imported { files, report })
}

/// Emit the draft, read it back, and drop any rule test that does not pass
/// (the rules were learnt on the user, so none should): the files and the
/// manifests they read as.
fn emit_checked(
    draft: &mut Draft,
    format: Format,
) -> Result<(Vec<(String, String)>, manifest::Loaded), ImportError> {
    for _ in 0..2 {
        let files = emit::files(draft, format).map_err(|e| ImportError::Invalid(e.to_string()))?;
        let mut sources = Sources::default();
        for (path, text) in &files {
            sources.add(path.clone(), text.clone());
        }
        let loaded = manifest::parse(sources);
        if loaded.has_errors() {
            return Err(ImportError::Invalid(
                loaded.diagnostics.render(&loaded.sources, false),
            ));
        }
        let results = crate::ruletest::run(&loaded.manifest);
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| !r.passed())
            .map(|r| r.name.as_str())
            .collect();
        if failed.is_empty() {
            return Ok((files, loaded));
        }
        draft.tests.retain(|t| !failed.contains(&t.name.as_str()));
    }
    Err(ImportError::Invalid("a rule test still fails".into()))
}

/// Each person's goal: its own bundle's persona when there is one,
/// otherwise any persona a plan would change nothing for.
fn goals(people: &[personas::Person], bundles: &[u32], fits: &[Vec<(u16, Fit)>]) -> rules::Goals {
    let own: std::collections::HashMap<u32, u16> = bundles
        .iter()
        .enumerate()
        .map(|(p, &b)| (b, p as u16))
        .collect();
    let mut target = Vec::with_capacity(people.len());
    let mut near = Vec::with_capacity(people.len());
    for (person, fits) in people.iter().zip(fits) {
        let exact: Vec<u16> = fits
            .iter()
            .filter(|f| f.1 == Fit::Exact)
            .map(|f| f.0)
            .collect();
        match own.get(&person.bundle).filter(|p| exact.contains(p)) {
            Some(&p) => {
                near.push(exact.into_iter().filter(|&x| x != p).collect());
                target.push(vec![p]);
            }
            None => {
                target.push(exact);
                near.push(Vec::new());
            }
        }
    }
    rules::Goals { target, near }
}

/// The user overrides: every person the rules do not give a persona it
/// already fits, and how many the rules explain.
fn overrides(
    live: &LiveState,
    people: &[personas::Person],
    fits: &[Vec<(u16, Fit)>],
    personas: &[PersonaDraft],
    learned: &rules::Learned,
) -> (Vec<UserDraft>, usize) {
    let mut out = Vec::new();
    let mut by_rules = 0;
    for (i, person) in people.iter().enumerate() {
        let user = &live.users[person.user];
        let rule = learned.rule_of[i].map(|r| &learned.rules[r as usize]);
        let fit_of = |p: u16| fits[i].iter().find(|f| f.0 == p).map(|f| f.1);
        if let Some(r) = rule {
            match fit_of(r.persona) {
                Some(Fit::Exact) => {
                    by_rules += 1;
                    continue;
                }
                Some(Fit::Pin) => {
                    out.push(UserDraft {
                        upn: user.upn.clone(),
                        persona: None,
                        number: person.primary,
                        ignore: false,
                        why: format!(
                            "the rules give `{}`, whose ranges do not hold this user's number: pinned",
                            personas[r.persona as usize].name
                        ),
                    });
                    continue;
                }
                None => {}
            }
        }
        let why_rules = match rule {
            Some(r) => format!("the rules give `{}`", personas[r.persona as usize].name),
            None => "no rule selects this user".to_string(),
        };
        out.push(match fits[i].first() {
            Some(&(p, fit)) => {
                let persona = &personas[p as usize];
                let pin = fit == Fit::Pin;
                UserDraft {
                    upn: user.upn.clone(),
                    persona: Some(persona.name.clone()),
                    number: if pin { person.primary } else { None },
                    ignore: false,
                    why: format!(
                        "{why_rules}, but it holds `{}`'s policies{}",
                        persona.name,
                        if pin { ", and a number outside its ranges" } else { "" }
                    ),
                }
            }
            None => UserDraft {
                upn: user.upn.clone(),
                persona: None,
                number: None,
                ignore: true,
                why: format!(
                    "{why_rules}, and no persona matches what it holds ({}): roster leaves it alone",
                    holding(user, person)
                ),
            },
        });
    }
    out.sort_by_cached_key(|u| (u.upn.to_lowercase(), u.upn.clone()));
    (out, by_rules)
}

/// What a user holds, in a few words, for a comment.
fn holding(user: &crate::live::User, person: &personas::Person) -> String {
    let mut parts: Vec<String> = user
        .policies
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    if parts.is_empty() {
        parts.push("no direct policy assignment".into());
    }
    parts.push(match person.primaries {
        0 if person.holds_any => "a non-primary number".into(),
        0 => "no number".into(),
        1 => "a number".into(),
        n => format!("{n} primary numbers"),
    });
    parts.join(", ")
}

/// A name made of lower-case letters, digits and single dashes.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let cut: String = out.chars().take(40).collect();
    cut.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests;

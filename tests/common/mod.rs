//! Helpers shared by the test suites.
#![allow(dead_code)]

pub mod azurite;
pub mod ci_tokens;
pub mod emu;
pub mod git;
pub mod http;
pub mod work;

use std::path::PathBuf;

/// Absolute path of a file or directory under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Absolute path under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The `roster` binary built for this test run.
pub fn roster() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("roster").expect("roster binary");
    cmd.env("NO_COLOR", "1").env_remove("RUST_LOG");
    cmd
}

/// `explain` tells the truth: for every user of `live`, the verdict and
/// persona `roster explain` shows are those the plan acts on (the desired
/// state and the plan's change for the user). Returns how many users had a
/// persona, so a caller can check the case was not vacuous.
pub fn assert_explain_agrees_with_plan(
    manifest: &roster::manifest::Manifest,
    live: &roster::live::LiveState,
) -> usize {
    use roster::desired::{Reason, Verdict};
    let state = roster::desired::compute(manifest, live);
    let plan = roster::plan::diff(
        &state,
        live,
        roster::plan::Meta {
            created_at: String::new(),
            digest: String::new(),
            git: None,
            tenant: roster::plan::TenantInfo {
                name: "t".into(),
                provider: "file".into(),
            },
            limit: Vec::new(),
        },
    );
    let engine = roster::desired::Engine::new(manifest, live);
    let mut with_persona = 0;
    for (i, user) in live.users.iter().enumerate() {
        let e = roster::explain::explain_with(&engine, &state, live, i);
        let desired = state.users.iter().find(|d| d.user == i);
        let change = plan.changes.iter().find(|c| c.user.id == user.id);
        let upn = &user.upn;
        match e.decision.verdict {
            Verdict::Ignored | Verdict::OutOfScope => {
                assert!(desired.is_none(), "{upn}: explain says untouched");
                assert!(!state.unmatched.contains(&i), "{upn}");
                assert!(change.is_none(), "{upn}: explain says untouched");
            }
            Verdict::Unmatched => {
                assert!(desired.is_none(), "{upn}: explain says unmatched");
                assert!(
                    state.unmatched.contains(&i),
                    "{upn}: explain says unmatched"
                );
            }
            Verdict::Leaver => {
                let d = desired.unwrap_or_else(|| panic!("{upn}: explain says leaver"));
                assert_eq!(d.reason, Reason::Leaver, "{upn}");
            }
            Verdict::Override(_) | Verdict::Rule(_) => {
                // Validation reports a persona that does not exist; such a
                // user is left alone by the plan and named by explain.
                if manifest.persona(e.persona().unwrap()).is_none() {
                    assert!(desired.is_none(), "{upn}");
                    continue;
                }
                let d = desired.unwrap_or_else(|| panic!("{upn}: explain gives a persona"));
                assert_eq!(d.persona.as_deref(), e.persona(), "{upn}");
                let reason = match e.decision.verdict {
                    Verdict::Rule(r) => Reason::Rule {
                        name: manifest.rules[r].name.value.clone(),
                    },
                    _ => Reason::Override,
                };
                assert_eq!(d.reason, reason, "{upn}");
                with_persona += 1;
            }
        }
        if let Some(c) = change {
            let d = desired.unwrap_or_else(|| panic!("{upn}: a change without a decision"));
            assert_eq!(c.persona, d.persona, "{upn}");
            assert_eq!(c.reason, d.reason, "{upn}");
        }
        let text = e.render();
        if let Some(d) = desired {
            let line = format!("desired (persona {}):", d.persona.as_deref().unwrap_or("-"));
            assert!(text.contains(&line), "{upn}: {text}");
        }
    }
    with_persona
}

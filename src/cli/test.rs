//! `roster test`: run the manifests' rule tests offline and report each
//! failure with the decision's trail; and the check `validate`, `plan`,
//! `apply` and `reconcile` make with the same tests.

use super::{Failure, Global, Result, load_valid};
use crate::manifest::Loaded;
use crate::ruletest;

/// Run every test; exit 1 on any failure.
pub fn test(g: &Global) -> Result<u8> {
    let loaded = load_valid(g)?;
    let results = ruletest::run(&loaded.manifest);
    print!("{}", ruletest::render(&results));
    Ok(if ruletest::all_passed(&results) { 0 } else { 1 })
}

/// Run the tests of valid manifests: print the failures to stderr and
/// refuse (as manifest errors do) when one fails. `what` names the
/// manifests in the message.
pub fn require_passing(loaded: &Loaded, what: &str) -> Result<()> {
    let results = ruletest::run(&loaded.manifest);
    if ruletest::all_passed(&results) {
        return Ok(());
    }
    let failed: Vec<_> = results.iter().filter(|r| !r.passed()).cloned().collect();
    eprint!("{}", ruletest::render(&failed));
    Err(Failure::new(format!(
        "{what} fail {} of {} rule test{}; fix the rules or the tests (`roster test` shows them)",
        failed.len(),
        results.len(),
        if results.len() == 1 { "" } else { "s" }
    )))
}

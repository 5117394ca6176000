//! `roster explain` agrees with the plan, user by user: on the bundled
//! example here, on generated tenants in `engine_props`.

use crate::common::{assert_explain_agrees_with_plan, repo};

#[test]
fn explain_agrees_with_the_plan_for_every_user_of_the_example() {
    let dir = repo("examples/tenant-config");
    let loaded = roster::config_dir::load(&dir).unwrap();
    assert!(!loaded.has_errors());
    let (_, live) = roster::files::read_snapshot(&dir.join("tenant.json")).unwrap();
    let with_persona = assert_explain_agrees_with_plan(&loaded.manifest, &live);
    assert!(
        with_persona > 200,
        "only {with_persona} users have a persona"
    );
}

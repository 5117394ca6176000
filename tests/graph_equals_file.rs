//! The same plan, whatever the path (issue 10, item 5): a synthetic tenant
//! from `examples/synth` (messy spellings, disabled users, groups, numbers
//! of each type, one policy assigned in several spellings), planned from the
//! snapshot file and through Graph served by the in-process emulator, gives
//! the same changes, change for change.

use roster::desired::Context;
use roster::live::LiveState;
use roster::manifest::Loaded;
use roster::plan::{Meta, Plan, TenantInfo};
use roster::provider::Provider;
use roster::provider::graph::Wanted;

use crate::common::emu::{Emu, SECRET};

/// The benchmark's generator, compiled into the test: the same code makes
/// the CI tenant and the 100k one.
#[path = "../examples/synth/main.rs"]
#[allow(dead_code)]
pub(crate) mod synth;

fn plan(loaded: &Loaded, live: &LiveState) -> Plan {
    let desired = roster::desired::compute_with(&loaded.manifest, live, &Context::default());
    let meta = Meta {
        created_at: "2026-01-01T00:00:00Z".into(),
        digest: loaded.digest(),
        git: None,
        tenant: TenantInfo {
            name: "northwind".into(),
            provider: "any".into(),
        },
        limit: Vec::new(),
    };
    roster::plan::diff(&desired, live, meta)
}

/// Each change as one JSON line, for a readable difference.
fn changes(p: &Plan) -> Vec<String> {
    p.changes
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect()
}

#[test]
fn the_plan_through_graph_equals_the_plan_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    synth::scale::run(4_000, dir.path(), 11, 0.10).expect("synthetic tenant");
    let tenant = dir.path().join("tenant.json");
    let loaded = roster::config_dir::load(&dir.path().join("config")).expect("config");
    assert!(
        !loaded.has_errors(),
        "{}",
        loaded.diagnostics.render(&loaded.sources, false)
    );

    // The generated tenant has what this test is about.
    let text = std::fs::read_to_string(&tenant).unwrap();
    let snap: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut spellings =
        std::collections::HashMap::<String, std::collections::BTreeSet<String>>::new();
    for a in snap["policyAssignments"].as_array().unwrap() {
        let name = a["policyName"].as_str().unwrap();
        spellings
            .entry(format!("{}/{}", a["policyType"], name.to_lowercase()))
            .or_default()
            .insert(name.to_string());
    }
    assert!(
        spellings.values().any(|s| s.len() > 1),
        "no policy is assigned in two spellings"
    );
    assert!(
        snap["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["accountEnabled"] == false),
        "no disabled user"
    );

    let file_live = roster::files::read_snapshot(&tenant).unwrap().1;
    let from_file = plan(&loaded, &file_live);

    let emu = Emu::start(&tenant, |_| {});
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let graph_live = graph.fetch().expect("fetch through Graph");
    let through_graph = plan(&loaded, &graph_live);

    assert!(!from_file.changes.is_empty(), "the tenant has drifted");
    let (a, b) = (changes(&from_file), changes(&through_graph));
    let only_file: Vec<&String> = a.iter().filter(|c| !b.contains(c)).take(5).collect();
    let only_graph: Vec<&String> = b.iter().filter(|c| !a.contains(c)).take(5).collect();
    assert!(
        a == b,
        "{} changes from the file, {} through Graph; first differences:\nfile:  {only_file:#?}\ngraph: {only_graph:#?}",
        a.len(),
        b.len()
    );
    assert_eq!(from_file.errors, through_graph.errors);
    assert_eq!(from_file.warnings, through_graph.warnings);
    assert_eq!(from_file.unmatched, through_graph.unmatched);
    assert_eq!(from_file.summary, through_graph.summary);
}

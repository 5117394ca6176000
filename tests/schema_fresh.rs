//! The committed JSON Schemas under `schema/` are what the code generates:
//! editors and reviewers read the files, so they must not fall behind.

use crate::common::repo;

fn assert_fresh(rel: &str, generated: &str) {
    let path = repo(rel);
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{rel} cannot be read ({e}): run `cargo run -- schema --out schema`")
    });
    // Compare lines, so a checkout with CRLF line ends is not stale.
    let committed: Vec<&str> = committed.lines().collect();
    let generated: Vec<&str> = generated.lines().collect();
    if committed != generated {
        let first = committed
            .iter()
            .zip(&generated)
            .position(|(a, b)| a != b)
            .unwrap_or(committed.len().min(generated.len()));
        panic!(
            "{rel} is stale: run `cargo run -- schema --out schema`\n\
             first difference at line {}:\n  committed: {:?}\n  generated: {:?}",
            first + 1,
            committed.get(first).copied().unwrap_or("<end of file>"),
            generated.get(first).copied().unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn manifest_schema_is_fresh() {
    assert_fresh(
        "schema/manifest.schema.json",
        &roster::manifest::schema::manifest_schema(),
    );
}

#[test]
fn plan_schema_is_fresh() {
    assert_fresh("schema/plan.schema.json", &roster::plan::schema());
}

#[test]
fn manifest_schema_knows_the_catalog() {
    let text = roster::manifest::schema::manifest_schema();
    let schema: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(
        schema["$schema"].as_str(),
        Some("https://json-schema.org/draft/2020-12/schema")
    );
    // TOML has no null: optional keys are left out, never null.
    assert!(
        !text.contains("\"null\""),
        "the manifest schema allows null"
    );
    for t in roster::catalog::POLICY_TYPES {
        assert!(
            text.contains(&format!("\"{t}\"")),
            "policy type `{t}` is missing"
        );
    }
    for a in roster::catalog::ATTRIBUTES {
        assert!(
            text.contains(&format!("\"{a}\"")),
            "attribute `{a}` is missing"
        );
    }
    for word in [
        "tenant",
        "range",
        "persona",
        "rule",
        "user",
        "direct-routing",
        "calling-plan",
        "operator-connect",
        "starts-with",
        "ends-with",
        "contains",
        "matches",
        "exists",
        "equals",
        "release-number",
        "max-changed-percent",
    ] {
        assert!(text.contains(&format!("\"{word}\"")), "`{word}` is missing");
    }
}

//! `roster validate` and `roster schema`.

use std::path::Path;

use super::{Global, Result, stderr_color, write_file};
use crate::manifest::{self, diag::count_line};

pub fn validate(g: &Global) -> Result<u8> {
    let loaded = crate::config_dir::load(&g.config)?;
    let d = &loaded.diagnostics;
    eprint!("{}", d.render(&loaded.sources, stderr_color()));
    let files = loaded.sources.files.len();
    let m = &loaded.manifest;
    if d.has_errors() {
        eprintln!(
            "invalid: {} in {files} file{}",
            count_line(d.error_count(), d.warning_count()),
            plural(files)
        );
        Ok(1)
    } else {
        let results = crate::ruletest::run(m);
        if !crate::ruletest::all_passed(&results) {
            let failed: Vec<_> = results.iter().filter(|r| !r.passed()).cloned().collect();
            eprint!("{}", crate::ruletest::render(&failed));
            eprintln!(
                "invalid: {} (`roster test` shows every test)",
                crate::ruletest::summary(&results)
            );
            return Ok(1);
        }
        println!(
            "valid: {files} file{}, {} range{}, {} persona{}, {} rule{}, {} user override{} ({})",
            plural(files),
            m.ranges.len(),
            plural(m.ranges.len()),
            m.personas.len(),
            plural(m.personas.len()),
            m.rules.len(),
            plural(m.rules.len()),
            m.users.len(),
            plural(m.users.len()),
            count_line(0, d.warning_count())
        );
        if !results.is_empty() {
            println!("rule tests: {}", crate::ruletest::summary(&results));
        }
        Ok(0)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub fn schema(out: Option<&Path>) -> Result<u8> {
    let manifest = manifest::schema::manifest_schema();
    match out {
        None => print!("{manifest}"),
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                super::Failure::new(format!("cannot create `{}`: {e}", dir.display()))
            })?;
            write_file(&dir.join("manifest.schema.json"), &manifest)?;
            write_file(&dir.join("plan.schema.json"), &crate::plan::schema())?;
            eprintln!(
                "wrote manifest.schema.json and plan.schema.json to {}",
                dir.display()
            );
        }
    }
    Ok(0)
}

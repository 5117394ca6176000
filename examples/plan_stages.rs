//! Time each stage of `roster plan` separately, through the library, to see
//! where the time of a large plan goes.
//!
//! ```text
//! cargo run --release --example plan_stages -- CONFIG_DIR TENANT_JSON [ROUNDS]
//! ```
//!
//! It repeats what `roster plan --format json --out FILE` does (read the
//! file, parse the snapshot into the live state, desired state, diff,
//! JSON, text) and prints the
//! median milliseconds of each stage over ROUNDS rounds (default 3).
//! Indented lines are parts of the stage above, or alternatives to it,
//! measured separately (not part of the total).

use std::path::PathBuf;

// The same allocator as the `roster` binary, so the stages add up to it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use roster::plan::render::{Format, render};
use roster::plan::{Meta, TenantInfo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: plan_stages CONFIG_DIR TENANT_JSON [ROUNDS]";
    let config = PathBuf::from(args.next().ok_or(usage)?);
    let tenant = PathBuf::from(args.next().ok_or(usage)?);
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);

    // Per stage: wall and CPU (user + system, all threads) milliseconds.
    let mut stages: Vec<(&'static str, Vec<f64>, Vec<f64>)> = Vec::new();
    let mut record = |name: &'static str, (t, cpu): (Instant, f64)| {
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let cpu_ms = cpu_ms() - cpu;
        match stages.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, v, c)) => {
                v.push(ms);
                c.push(cpu_ms);
            }
            None => stages.push((name, vec![ms], vec![cpu_ms])),
        }
    };
    let mut summary = String::new();
    for _ in 0..rounds.max(1) {
        let t = now();
        let loaded = roster::config_dir::load(&config)?;
        record("load manifests", t);
        let t = now();
        // As the file provider reads it (mapped when large).
        let text = roster::files::Text::read(&tenant)?;
        record("read snapshot file", t);
        let file = tenant.display().to_string();
        let t = now();
        let fetched = roster::snapshot::parse_live(&file, &text)?;
        record("text -> LiveState", t);
        // The slow path (the Graph provider's, and the fast one's fallback).
        let t = now();
        let snap = roster::snapshot::parse(&file, &text)?;
        record("  slow: parse snapshot JSON", t);
        let t = now();
        let slow = roster::snapshot::into_live(&file, snap)?;
        record("  slow: snapshot -> LiveState", t);
        assert!(slow == fetched, "the fast and the slow path differ");
        std::mem::forget(slow);
        let t = now();
        let desired = roster::desired::compute(&loaded.manifest, &fetched);
        record("desired::compute", t);
        // What compute spends on rules: compiling them, building each
        // user's normalised view (`Subject`), and scope + first match.
        let t = now();
        let engine = roster::desired::Engine::new(&loaded.manifest, &fetched);
        record("  compute: compile rules", t);
        let t = now();
        for i in 0..fetched.users.len() {
            std::hint::black_box(engine.subject(&fetched, i));
        }
        record("  compute: subjects only", t);
        let t = now();
        let mut matched = 0usize;
        for i in 0..fetched.users.len() {
            let s = engine.subject(&fetched, i);
            if engine.in_scope(&s) && engine.first_match(&s).is_some() {
                matched += 1;
            }
        }
        std::hint::black_box(matched);
        record("  compute: subjects + rules", t);
        let t = now();
        std::hint::black_box(fetched.numbers_by_holder());
        record("  compute: numbers_by_holder", t);
        drop(engine);
        let meta = Meta {
            created_at: "2025-01-01T00:00:00Z".into(),
            digest: loaded.digest(),
            git: None,
            tenant: TenantInfo {
                name: "bench".into(),
                provider: "file".into(),
            },
            limit: Vec::new(),
        };
        let t = now();
        let plan = roster::plan::diff(&desired, &fetched, meta);
        record("plan::diff", t);
        let t = now();
        let json = plan.to_json();
        record("plan JSON (--out)", t);
        let t = now();
        let rendered = render(&plan, Format::Json, false);
        record("render --format json", t);
        let t = now();
        let text_view = render(&plan, Format::Text, false);
        record("render --format text", t);
        let t = now();
        drop((fetched, desired, text));
        record("drop inputs", t);
        summary = format!(
            "{} changes, {} unmatched, {} errors; plan JSON {} bytes, text {} bytes, json view {} bytes",
            plan.summary.users_changed,
            plan.summary.unmatched,
            plan.summary.errors,
            json.len(),
            text_view.len(),
            rendered.len()
        );
    }
    println!("{summary}");
    println!("{:<28} {:>10} {:>10}", "stage", "median ms", "cpu ms");
    let (mut total, mut total_cpu) = (0.0, 0.0);
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    for (name, v, c) in stages {
        let (wall, cpu) = (median(v), median(c));
        if !name.starts_with(' ') {
            total += wall;
            total_cpu += cpu;
        }
        println!("{name:<28} {wall:>10.1} {cpu:>10.1}");
    }
    println!(
        "{:<28} {total:>10.1} {total_cpu:>10.1}",
        "total (unindented stages)"
    );
    Ok(())
}

/// The wall clock and the process's CPU time (ms) now.
fn now() -> (Instant, f64) {
    (Instant::now(), cpu_ms())
}

/// User + system CPU time of the whole process so far, in milliseconds.
fn cpu_ms() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut u = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}

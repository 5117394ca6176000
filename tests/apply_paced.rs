//! Writes at the floor (issue 10, item 4): under a small write limit the
//! emulator enforces as Graph does (a sliding window per app and tenant,
//! `$batch` items counted one by one), an apply finishes, is refused only a
//! few times (the pacer settles under the limit instead of bouncing off
//! it), and takes about writes / allowed rate. The bound here is generous
//! so a busy machine does not fail it; BENCHMARKS.md has the tight number.

use std::time::{Duration, Instant};

use roster::emulator::throttle::Limits;
use roster::provider::graph::Wanted;

use crate::common::emu::{Emu, SECRET};
use crate::provider_contract::{config, converge, write_tenant};

/// Writes the emulator admitted: every write route answered 2xx.
fn writes(emu: &Emu) -> u64 {
    let stats = emu.emu.stats_json();
    stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let route = r["route"].as_str().unwrap_or("");
            let status = r["status"].as_u64().unwrap_or(0);
            route.starts_with("POST /admin/") && (200..300).contains(&status)
        })
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

#[test]
fn an_apply_under_the_write_limit_is_paced_not_bounced() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 160);
    // 20 writes per second, in a 1 s sliding window.
    let (limit, window) = (20u32, Duration::from_secs(1));
    let emu = Emu::start(&seed, |o| {
        o.limits = Some(Limits {
            writes: limit,
            write_window: window,
            ..Limits::default()
        });
        o.latency = Duration::from_millis(2);
    });
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let t0 = Instant::now();
    converge(&loaded, &mut graph, 20);
    let wall = t0.elapsed().as_secs_f64();
    let writes = writes(&emu);
    let refused = emu.count_status(429);
    let rate = f64::from(limit) / window.as_secs_f64();
    let floor = writes as f64 / rate;
    let stats = emu.emu.stats_json();
    eprintln!("{writes} writes, {refused} refused, {wall:.2} s (floor {floor:.2} s)");
    assert!(
        writes > 3 * u64::from(limit),
        "the apply must need several windows: {writes} writes\n{stats}"
    );
    // The first refusal teaches the pace; a few more as it settles.
    assert!(
        refused > 0,
        "the write limit was never reached: {writes} writes\n{stats}"
    );
    assert!(
        refused <= 20 + writes / 10,
        "{refused} refusals for {writes} writes: bouncing off the limit\n{stats}"
    );
    // At most writes / rate (the first window's burst is ahead of the
    // floor), with room for a slow machine.
    assert!(
        wall < 2.0 * floor + 5.0,
        "{wall:.2} s for {writes} writes at {rate}/s (floor {floor:.2} s)"
    );
}

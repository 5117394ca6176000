//! The floor of `roster plan` from a snapshot file (issue 10, item 6):
//! read the file and parse its JSON without building anything
//! (`serde_json` into `IgnoredAny`). `benches/floor.sh` times it against
//! the plan from the same file.
//!
//!     cargo run --release --example floor -- target/bench/100000/tenant.json
//!     cargo run --release --example floor -- --map target/bench/100000/tenant.json
//!
//! With `--map` the file is memory-mapped (populated up front) instead of
//! read into a buffer, as roster's file provider does for large snapshots:
//! the floor of a reader that maps, so a plan that maps is not compared
//! with a floor that pays for a copy the plan does not make.

use serde::de::IgnoredAny;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let map = args.first().is_some_and(|a| a == "--map");
    if map {
        args.remove(0);
    }
    let Some(path) = args.first() else {
        eprintln!("usage: floor [--map] TENANT.json");
        std::process::exit(2);
    };
    let fail = |e: std::io::Error| -> ! {
        eprintln!("error: cannot read `{path}`: {e}");
        std::process::exit(1);
    };
    let parse = |bytes: &[u8]| {
        if let Err(e) = serde_json::from_slice::<IgnoredAny>(bytes) {
            eprintln!("error: `{path}` is not JSON: {e}");
            std::process::exit(1);
        }
        println!("{} bytes parsed", bytes.len());
    };
    if map {
        let file = std::fs::File::open(path).unwrap_or_else(|e| fail(e));
        // SAFETY: a read-only mapping of a file nobody writes meanwhile.
        let bytes = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
            .unwrap_or_else(|e| fail(e));
        parse(&bytes);
    } else {
        parse(&std::fs::read(path).unwrap_or_else(|e| fail(e)));
    }
}

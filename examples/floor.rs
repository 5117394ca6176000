//! The floor of `roster plan` from a snapshot file (issue 10, item 6):
//! read the file and parse its JSON without building anything
//! (`serde_json` into `IgnoredAny`). `benches/floor.sh` times it against
//! the plan from the same file.
//!
//!     cargo run --release --example floor -- target/bench/100000/tenant.json

use serde::de::IgnoredAny;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: floor TENANT.json");
        std::process::exit(2);
    };
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{path}`: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = serde_json::from_slice::<IgnoredAny>(&text) {
        eprintln!("error: `{path}` is not JSON: {e}");
        std::process::exit(1);
    }
    println!("{} bytes parsed", text.len());
}

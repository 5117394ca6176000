//! `roster fmt [--check]`.

use clap::Args;

use super::{Failure, Global, Result};

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Change nothing: print a unified diff and exit 1 when anything would change.
    #[arg(long)]
    pub check: bool,
}

pub fn run(_g: &Global, _args: &FmtArgs) -> Result<u8> {
    Err(Failure::new("`roster fmt` is not implemented yet"))
}

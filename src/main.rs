use std::process::ExitCode;

// roster builds and frees millions of small strings on a large tenant; the
// system allocator spends a third of a plan's time on them (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Behave like other Unix tools when the reader of stdout goes away
    // (`roster plan | head`): end quietly instead of panicking on EPIPE.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any
    // other thread exists has no memory-safety preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    roster::cli::main()
}

use std::process::ExitCode;

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

//! Thin entry point: everything lives in the library so that tests drive the same code.

/// A page view allocates thousands of short-lived strings (rendering, SQL rows, headers), and
/// with glibc's allocator a fifth of a busy server's CPU went to `malloc`/`free` and their
/// locks; mimalloc's thread-local free lists cut that (BENCHMARKS.md, "Allocator").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    amtsweg_server::cli::main()
}

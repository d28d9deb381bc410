//! Thin entry point: everything lives in the library so that tests drive the same code.

fn main() -> std::process::ExitCode {
    amtsweg_server::cli::main()
}

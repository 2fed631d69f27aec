//! The binary: everything happens in `aws_jit::app`, which parses, dispatches, prints once
//! and picks the exit code.

#![deny(clippy::print_stdout, clippy::print_stderr)]

fn main() -> std::process::ExitCode {
    aws_jit::app::main()
}

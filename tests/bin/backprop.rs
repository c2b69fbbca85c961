//! The `backprop` entry point under a test-only name: cargo builds it for the end-to-end tests
//! and hands them its path. It runs exactly what the real binary runs.

fn main() {
    std::process::exit(backprop_cli::app::main());
}

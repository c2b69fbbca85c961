//! `backprop`: the command line. Everything lives in the library; see `backprop_cli::app`.

fn main() {
    std::process::exit(backprop_cli::app::main_with(std::env::args_os()));
}

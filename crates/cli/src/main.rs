//! `backprop`: the command line. Everything lives in the library; see `backprop_cli::app`.

fn main() {
    std::process::exit(backprop_cli::app::main());
}

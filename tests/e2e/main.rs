//! End-to-end tests: the `backprop` binary (built from the same `backprop_cli::app::main_with`
//! as the real one) on the configs in `configs/` and on configs the tests write.

mod bad_config;
mod checkpoint;
mod configs;
mod data;
mod docs;
mod explain;
mod extension;
mod grad;
#[cfg(unix)]
mod pty;
#[cfg(unix)]
mod terminal;
mod torch_parity;
mod train;
mod util;

//! sgdfast: many independent mini-batch SGD runs of one small network, fused and parallel.
//!
//! [`engine`] is the numerical core (no Python); `bindings` is the thin PyO3 layer that
//! builds the `sgdfast._core` extension module.

mod bindings;
pub mod engine;
mod stability_bindings;

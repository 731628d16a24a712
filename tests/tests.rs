//! rsync-tool's integration tests: one binary, a module per topic. They run
//! the real `rsync-tool` binary (and Debian's `rdiff` where it is installed)
//! or the library through its public API.

mod block_limits;
mod cli;
mod compress;
mod engines;
mod errors;
mod generated;
mod golden;
mod interop;
mod jobs;
mod large_offsets;
mod mutation;
mod outputs;
mod pipeline;
mod progress;
mod readme;
mod roundtrip;
mod signals;
mod startup;
mod stats;
mod util;
mod verify;

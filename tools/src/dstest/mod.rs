//! Building blocks of `dstest`, the stress runner: command line, test
//! selection, building and listing the test binary, running single tests
//! in child processes, the live display, and the final statistics.

pub mod build;
pub mod cli;
pub mod display;
pub mod report;
pub mod runner;
pub mod select;
pub mod stats;

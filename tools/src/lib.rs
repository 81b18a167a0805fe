//! Shared helpers of the developer tools.

pub mod dstest;
pub mod logfmt;
pub mod logview;
pub mod report;
pub mod runner;
pub mod scratch;
pub mod suite;

//! Shared helpers of the developer tools.

pub mod dstest;
pub mod grading;
pub mod handout;
pub mod labs;
pub mod logfmt;
pub mod logview;
pub mod report;
pub mod runner;
pub mod scratch;
pub mod submission;
pub mod suite;

//! Models of the course's objects.

pub mod kv;

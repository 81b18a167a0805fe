//! Unit tests of the pure rules, without a network.

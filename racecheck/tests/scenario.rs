//! The scenario, as a test: `cargo test -p racecheck` runs it natively,
//! `make miri` under Miri, `make tsan` under ThreadSanitizer.

#[test]
fn three_peers_agree_then_one_crashes_and_restarts() {
    let report = racecheck::run(racecheck::Budget::for_this_build());
    eprintln!("{report}");
}

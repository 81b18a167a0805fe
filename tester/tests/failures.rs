//! How the tester fails, seen from outside: each scenario runs in a child
//! process (`tester::child`) and the parent checks what it printed and how
//! it exited. A check's failure points at the test's own line; a panic off
//! the test's thread ends the process with a report; a hung test ends it
//! with every thread's stack; tests run in parallel serialize themselves.

use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;
use tester::child::{is_child, rerun, rerun_with};
use tester::{run, Config, EXIT_FATAL};

/// The line the child said its failing check is on.
fn reported_line(stdout: &str) -> u32 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("CHECK AT LINE "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("the child named no line:\n{stdout}"))
}

/// Each failing check panics at the line of the test that called it (the
/// harness's checks are `#[track_caller]`), as a libtest failure.
#[test]
fn a_failing_check_points_at_the_tests_line() {
    if is_child() {
        run(|| {
            let cfg = Config::new(3, false, false);
            cfg.begin("Test (T): failing checks");
            match std::env::var("CHECK").unwrap().as_str() {
                "rf" => {
                    cfg.crash1(1);
                    println!("CHECK AT LINE {}", line!() + 1);
                    cfg.rf(1);
                }
                "check_no_leader" => {
                    cfg.check_one_leader();
                    println!("CHECK AT LINE {}", line!() + 1);
                    cfg.check_no_leader();
                }
                "one" => {
                    println!("CHECK AT LINE {}", line!() + 1);
                    cfg.one(101, 4, false); // 4 of 3 peers: never
                }
                other => panic!("unknown CHECK {other}"),
            }
        });
        return;
    }
    for (check, message) in [
        ("rf", "peer 1 is not running"),
        ("check_no_leader", "expected no leader among connected servers"),
        ("one", "one(101) failed to reach agreement"),
    ] {
        let out = rerun("a_failing_check_points_at_the_tests_line", &[("CHECK", check)]);
        assert_eq!(out.code, Some(101), "{check}: a libtest failure\n{}", out.all());
        let at = format!("panicked at tester/tests/failures.rs:{}:", reported_line(&out.stdout));
        assert!(out.stderr.contains(&at), "{check}: no {at:?} in\n{}", out.all());
        assert!(out.stderr.contains(message), "{check}: no {message:?} in\n{}", out.all());
        assert!(out.stderr.contains("LABRPC_SEED="), "{check}: the seed is printed\n{}", out.all());
    }
}

/// A panic on a thread that is not the test's own (here a helper thread;
/// the same for a peer's, a handler's or an applier's) ends the process at
/// once, naming the thread, the message and its location, the test, the
/// step in progress and the seed.
#[test]
fn a_panic_on_another_thread_ends_the_process_with_a_report() {
    if is_child() {
        run(|| {
            let cfg = Config::new(3, false, false);
            cfg.begin("Test (T): a helper panics");
            cfg.check_one_leader();
            let _ =
                thread::Builder::new().name("helper-x".into()).spawn(|| panic!("boom from a helper")).unwrap().join();
            thread::sleep(Duration::from_secs(30));
        });
        return;
    }
    let out = rerun("a_panic_on_another_thread_ends_the_process_with_a_report", &[]);
    assert_eq!(out.code, Some(EXIT_FATAL), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(20), "ended at once\n{}", out.all());
    for want in [
        "tester: FAIL: thread 'helper-x' panicked at tester/tests/failures.rs:",
        "boom from a helper",
        "tester: test: a_panic_on_another_thread_ends_the_process_with_a_report",
        "tester: step in progress: check_one_leader",
        "set LABRPC_SEED=",
    ] {
        assert!(out.stderr.contains(want), "missing {want:?} in\n{}", out.all());
    }
}

/// The body and a helper each take one lock and wait for the other's.
fn hold_a_then_b(a: &Mutex<()>, b: &Mutex<()>, both_hold: &Barrier) {
    let _a = a.lock().unwrap();
    both_hold.wait();
    let _b = b.lock().unwrap();
}

fn have(tool: &str) -> bool {
    std::process::Command::new(tool).arg("--version").output().is_ok()
}

/// A test that deadlocks is ended at the time limit (shortened here through
/// `TESTER_TIME_LIMIT_SECS`) with the failure, the step, the seed and
/// every thread's stack, the deadlocked ones and the peers' included. The
/// watchdog waits on nothing: the peers are still running when it reports.
#[test]
fn a_hung_test_ends_the_process_with_every_threads_stack() {
    if is_child() {
        run(|| {
            let cfg = Config::new(3, false, false);
            cfg.begin("Test (T): deadlock");
            cfg.check_one_leader();
            let (a, b) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
            let both_hold = Arc::new(Barrier::new(2));
            let (a2, b2, w2) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&both_hold));
            let _helper =
                thread::Builder::new().name("deadlock-helper".into()).spawn(move || hold_a_then_b(&b2, &a2, &w2));
            hold_a_then_b(&a, &b, &both_hold);
            drop(cfg);
        });
        return;
    }
    let out = rerun("a_hung_test_ends_the_process_with_every_threads_stack", &[("TESTER_TIME_LIMIT_SECS", "4")]);
    assert_eq!(out.code, Some(EXIT_FATAL), "{}", out.all());
    for want in [
        "tester: FAIL: test took longer than 4 seconds",
        "tester: test: a_hung_test_ends_the_process_with_every_threads_stack",
        "tester: step in progress: check_one_leader",
        "set LABRPC_SEED=",
    ] {
        assert!(out.stderr.contains(want), "missing {want:?} in\n{}", out.all());
    }
    if have("eu-stack") || have("gdb") {
        assert!(out.stderr.contains("tester: stacks of all threads ("), "{}", out.all());
        for want in ["test-body", "deadlock-helper", "hold_a_then_b", "raft-0-ticker", "tester-apply-2"] {
            assert!(out.stderr.contains(want), "no {want:?} in the stacks\n{}", out.all());
        }
    } else {
        assert!(out.stderr.contains("tester: no thread stacks: neither eu-stack nor gdb"), "{}", out.all());
    }
}

/// A test of the serial group: a short cluster, as every Lab 3 test makes.
fn short_cluster() {
    let cfg = Config::new(3, false, false);
    cfg.check_one_leader();
}

#[test]
fn serial_one() {
    run(short_cluster)
}

#[test]
fn serial_two() {
    run(short_cluster)
}

/// libtest runs tests in parallel; they wait for each other in `run`, and
/// one that fails leaves the others unharmed (no "one Config at a time",
/// no poisoned lock). In the child this test is the one that fails.
#[test]
fn serial_tests_wait_for_each_other_and_survive_a_failure() {
    if is_child() {
        run(|| {
            let cfg = Config::new(3, false, false);
            cfg.check_one_leader();
            panic!("a deliberate failure");
        });
        return;
    }
    let out = rerun_with(&["serial_", "--test-threads=4"], &[]);
    assert_eq!(out.code, Some(101), "{}", out.all());
    assert!(out.stdout.contains("test result: FAILED. 2 passed; 1 failed"), "{}", out.all());
    assert!(out.stdout.contains("serial_tests_wait_for_each_other_and_survive_a_failure ... FAILED"), "{}", out.all());
    for bad in ["PoisonError", "one Config at a time"] {
        assert!(!out.stderr.contains(bad) && !out.stdout.contains(bad), "{bad}\n{}", out.all());
    }
}

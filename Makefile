# The 6.5840 Lab 3 (Raft) and Lab 4 (kvraft) kit in Rust. `make help` lists
# the targets and the variables they take.
CARGO ?= cargo
SUITE = $(CARGO) test --release -p tester --test raft_test --
KV_SUITE = $(CARGO) test --release -p tester --test kvraft_test --
SAFETY = $(CARGO) test --release -p tester --test safety_test --
RUN_SUITE = --test-threads=1 --nocapture
TOOL = $(CARGO) run --release -q -p tools --bin
# Tests to stress: parts (3A, 4B), labs (lab3, lab4), `all`, test names.
TESTS ?= 3A 3B 3C 3D
# Runs of each test, and runs at a time (also: submissions graded at a time).
N ?= 100
P ?= 4
# Parts to grade (empty: every lab the kit has tests for).
PARTS ?=
# A student's submission to grade, or a folder of them.
SUBMISSION ?=
SUBMISSIONS ?=
# Where `make handout` writes the student kit.
DEST ?=

.PHONY: help test unit test-3A test-3B test-3C test-3D test-lab3 test-4A test-4B test-lab4 test-safety plants-safety check-plants \
	check-handout check-grader handout stress race stress-list grade bench-lab3 bench-lab4 bench-labrpc bench-porcupine \
	viz-check loom miri lint doc

help:
	@echo "Tests of the kit:"
	@echo "  make test           unit tests of every crate, then the whole Lab 3 suite once"
	@echo "  make unit           unit tests of every crate"
	@echo "  make test-3A        one part of Lab 3 (also test-3B, test-3C, test-3D); make test-lab3 runs all 28"
	@echo "  make test-4A        one part of Lab 4 (also test-4B); make test-lab4 runs all 23"
	@echo "  make test-safety    the safety suite (~25 s): scenarios and monitors that catch classic Raft bugs the 28 miss"
	@echo "  make plants-safety  each planted bug class of tools/plants/safety against the course's 28 and the safety"
	@echo "                      suite, and correct variants against the safety suite (PLANT_N=$(PLANT_N) runs each; long)"
	@echo "  make loom           model checks of the concurrency kernels (loom)"
	@echo "  make viz-check      porcupine's timeline page loaded in headless Chromium, its DOM checked"
	@echo "  make miri           unit tests and two 3-peer scenarios under Miri (nightly)"
	@echo "  make lint           rustfmt, clippy and rustdoc, all warnings denied"
	@echo "  make doc            the API docs of every crate (target/doc/<crate>/index.html)"
	@echo "Checks of the tester, the handout and the grader (scratch copies of the kit, built in target/scratch):"
	@echo "  make check-plants   the tester against a planted 3D deadlock and the student skeleton"
	@echo "  make check-handout  the handout builds, its 3A tests fail cleanly, no line of the solutions in it"
	@echo "  make check-grader   grade --submission and --submissions on the solution, the skeleton, a planted bug"
	@echo "The student kit and grading:"
	@echo "  make handout DEST=dir          write the student kit (skeleton raft and kvraft) to a new folder"
	@echo "  make grade                     each test in its own process, against the course's limits (PARTS=...)"
	@echo "  make grade SUBMISSION=path     a student's raft/kvraft, built into a fresh copy of this kit"
	@echo "  make grade SUBMISSIONS=dir P=3 every submission in dir, P at a time: summary.csv and summary.json"
	@echo "Stress and measure:"
	@echo "  make stress         N runs of each test of TESTS, P at a time; make race: the same on a race build"
	@echo "  make stress-list    the tests TESTS selects"
	@echo "  make bench-lab3     the whole Lab 3 suite once: per-test time, floor, RPCs, bytes, CPU; suite wall/CPU/max RSS"
	@echo "  make bench-lab4     the same for Lab 4's 23 tests, with CPU per client operation and the Speed tests' timed part"
	@echo "  make bench-labrpc   labrpc round trips per second and CPU per call"
	@echo "  make bench-porcupine  linearizability check time and memory on generated key/value histories"
	@echo "Variables (now):"
	@echo "  TESTS='$(TESTS)'  N=$(N)  P=$(P)  PARTS='$(PARTS)'  SUBMISSION='$(SUBMISSION)'  SUBMISSIONS='$(SUBMISSIONS)'  DEST='$(DEST)'"

test: unit test-lab3

unit:
	$(CARGO) test --workspace --exclude tester
	$(CARGO) test -p tester --lib --test failures
	$(CARGO) test --release -p raft --test compaction_memory -- --nocapture
	$(CARGO) test --release -p kvraft --test memory -- --nocapture

test-3A:
	$(SUITE) _3a $(RUN_SUITE)
test-3B:
	$(SUITE) _3b $(RUN_SUITE)
test-3C:
	$(SUITE) _3c $(RUN_SUITE)
test-3D:
	$(SUITE) _3d $(RUN_SUITE)
test-lab3:
	$(SUITE) $(RUN_SUITE)
test-4A:
	$(KV_SUITE) _4a $(RUN_SUITE)
test-4B:
	$(KV_SUITE) _4b $(RUN_SUITE)
test-lab4:
	$(KV_SUITE) $(RUN_SUITE)


# The safety suite (tester/tests/safety_test.rs, names ending _safety): not
# part of the course's 28. Stress it with
# `dstest --test-target safety_test -n 200 -p 16 all`.
test-safety:
	$(SAFETY) _safety $(RUN_SUITE)

# The README's table: each bug class of tools/plants/safety planted in a
# scratch copy, the course's suite and the safety suite run PLANT_N times
# each on it (the course's suite is ~5 min a run); and the correct variants
# of tools/plants/correct, which the safety suite must pass.
PLANT_N ?= 3
plants-safety:
	$(CARGO) run --release -q -p tools --bin plant -- tools/plants/safety/*.plant --suite safety_test -n $(PLANT_N)
	$(CARGO) run --release -q -p tools --bin plant -- tools/plants/correct/*.plant --suite safety_test -n $(PLANT_N)
	$(CARGO) run --release -q -p tools --bin plant -- tools/plants/safety/*.plant --suite raft_test -n $(PLANT_N) -p 2

# The tester against other Rafts, each in a scratch copy of the kit built
# into target/scratch: a planted 3D deadlock must be reported as hung with
# stacks, the student skeleton must compile and fail cleanly, and each bug
# class of tools/plants/safety must fail its safety scenario naming the rule.
check-plants:
	$(CARGO) test -p tools --test scratch_kits -- --ignored --test-threads=1

# The handout, written to a temporary folder and built in target/scratch:
# no line of the solutions, no warning, `make test-3A` fails its 3 tests
# cleanly and in bounded time, the skeleton kvraft has the reference's API;
# once the kit has the Lab 4 tests, every one of them fails cleanly too.
check-handout:
	$(CARGO) test -p tools --test kits -- --ignored --nocapture --exact the_handout_builds_and_fails_cleanly
	$(if $(wildcard tester/tests/kvraft_test.rs),$(CARGO) test -p tools --test kits -- --ignored --nocapture --exact the_lab4_skeleton_fails_every_test_cleanly)

# The grader on submissions: the solution copied out with a test deleted
# grades against every test; a batch of the solution, the skeleton and a
# planted bug gives the expected summary.
check-grader:
	$(CARGO) test -p tools --test kits -- --ignored --nocapture --exact the_grader_grades_submissions_against_its_own_tests

handout:
	@test -n "$(DEST)" || { echo "make handout: give DEST=<new folder>"; exit 2; }
	$(TOOL) handout -- $(DEST)

stress:
	$(TOOL) dstest -- -n $(N) -p $(P) $(TESTS)
race:
	$(TOOL) dstest -- -r -n $(N) -p $(P) $(TESTS)
stress-list:
	$(TOOL) dstest -- --list $(TESTS)

grade:
	$(TOOL) grade -- $(if $(SUBMISSION),--submission $(SUBMISSION)) \
		$(if $(SUBMISSIONS),--submissions $(SUBMISSIONS) -p $(P)) $(PARTS)

bench-lab3:
	$(TOOL) bench --
bench-lab4:
	$(TOOL) bench -- --lab lab4

bench-labrpc:
	$(CARGO) bench -p labrpc

bench-porcupine:
	$(CARGO) bench -p porcupine --bench check

# Needs Chromium (Debian: apt-get install chromium; or set CHROMIUM=path).
viz-check:
	$(CARGO) run -q -p porcupine --example viz_check

# Model checks of the concurrency kernels (apply hand-off, kill, reply vs.
# server deletion, persister). Own target dir: --cfg loom rebuilds everything.
loom:
	CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" $(CARGO) test --release -p persister -p labrpc -p raft --lib loom

# Unit tests of labgob, persister, labrpc and Raft's rules, a labrpc subset,
# and two 3-peer scenarios (raft's own; racecheck's, which the handout's
# `make miri` runs on a student's Raft) under miri (virtual clock; no
# MIRIFLAGS needed). Skipped: a 766 s randomized rule test, a determinism
# test, and a timing-dependent labrpc test whose race loom covers.
miri:
	rustup component add --toolchain nightly miri rust-src
	$(CARGO) +nightly miri test -p labgob -p persister -p raft --lib -- --skip random_interleavings
	$(CARGO) +nightly miri test -p labrpc --test network -- basic several_types disconnect_and_enable per_server_counts byte_counts concurrent_calls_across concurrent_calls_on_one_end deleted_server_fails wrong_argument panicking_handler unknown_service cleanup_fails_calls
	$(CARGO) +nightly miri test -p raft --test miri_scenario
	$(CARGO) +nightly miri test -p racecheck --test scenario -- --nocapture

lint:
	$(CARGO) fmt --all -- --check
	rustfmt --check --edition 2021 skeleton/raft/src/lib.rs skeleton/kvraft/src/*.rs
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

doc:
	$(CARGO) doc --workspace --no-deps
	@echo "docs: target/doc/<crate>/index.html (raft, kvraft, tester, labrpc, tools, ...)"

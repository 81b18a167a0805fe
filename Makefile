# The 6.5840 Lab 3 kit in Rust. `make help` lists the targets.
CARGO ?= cargo
SUITE = $(CARGO) test --release -p tester --test raft_test --
KVSUITE = $(CARGO) test --release -p tester --test kvraft_test --
SAFETY = $(CARGO) test --release -p tester --test safety_test --
RUN_SUITE = --test-threads=1 --nocapture
N ?= 100
P ?= 4
TESTS ?= 3A 3B 3C 3D

.PHONY: help test unit test-3A test-3B test-3C test-3D test-lab3 test-4A test-4B test-lab4 test-safety plants-safety check-plants stress stress-list grade bench-lab3 bench-labrpc bench-porcupine viz-check loom miri lint doc

help:
	@echo "make test        unit tests of every crate, then the whole Lab 3 suite once"
	@echo "make test-3A     one part of Lab 3 (also test-3B, test-3C, test-3D); make test-lab3 runs all 28"
	@echo "make test-4A     one part of Lab 4 (also test-4B); make test-lab4 runs all 23"
	@echo "make test-safety the safety suite (~25 s): scenarios and monitors that catch classic Raft bugs the 28 miss"
	@echo "make plants-safety  each planted bug class of tools/plants/safety against the course's 28 and the safety suite, and correct variants against the safety suite (PLANT_N=$(PLANT_N) runs each; long)"
	@echo "make stress      N runs of each test of TESTS with P workers (N=$(N) P=$(P) TESTS='$(TESTS)')"
	@echo "make grade       per-test pass/fail and time, per-part wall/CPU, against the course's limits"
	@echo "make bench-lab3  the whole suite once: per-test time/RPCs/bytes, suite wall/CPU/max RSS"
	@echo "make bench-labrpc  labrpc round trips per second and CPU per call"
	@echo "make bench-porcupine  linearizability check time and memory on generated key/value histories"
	@echo "make viz-check   porcupine's timeline page loaded in headless Chromium, its DOM checked"
	@echo "make loom / miri   model checks / undefined-behaviour checks"
	@echo "make check-plants  the tester against planted Raft bugs and the student skeleton (scratch copies of the kit)"
	@echo "make lint        rustfmt, clippy and rustdoc, all warnings denied"

test: unit test-lab3

unit:
	$(CARGO) test --workspace --exclude tester
	$(CARGO) test -p tester --lib --test failures
	$(CARGO) test --release -p raft --test compaction_memory -- --nocapture

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
	$(KVSUITE) _4a $(RUN_SUITE)
test-4B:
	$(KVSUITE) _4b $(RUN_SUITE)
test-lab4:
	$(KVSUITE) $(RUN_SUITE)

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

stress:
	$(CARGO) run --release -q -p tools --bin dstest -- -n $(N) -p $(P) $(TESTS)
stress-list:
	$(CARGO) run --release -q -p tools --bin dstest -- --list $(TESTS)

grade:
	$(CARGO) run --release -q -p tools --bin grade -- $(PARTS)

bench-lab3:
	$(CARGO) run --release -q -p tools --bin bench --

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
# and a 3-peer election + agreement scenario, under miri (virtual clock; no
# MIRIFLAGS needed). Skipped: a 766 s randomized rule test, a determinism
# test, and a timing-dependent labrpc test whose race loom covers.
miri:
	rustup component add --toolchain nightly miri rust-src
	$(CARGO) +nightly miri test -p labgob -p persister -p raft --lib -- --skip random_interleavings
	$(CARGO) +nightly miri test -p labrpc --test network -- basic several_types disconnect_and_enable per_server_counts byte_counts concurrent_calls_across concurrent_calls_on_one_end deleted_server_fails wrong_argument panicking_handler unknown_service cleanup_fails_calls
	$(CARGO) +nightly miri test -p raft --test miri_scenario

lint:
	$(CARGO) fmt --all -- --check
	rustfmt --check --edition 2021 skeleton/raft/src/lib.rs
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

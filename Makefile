# The 6.5840 Lab 3 kit in Rust. `make help` lists the targets.
CARGO ?= cargo
SUITE = $(CARGO) test --release -p tester --test raft_test --
RUN_SUITE = --test-threads=1 --nocapture
N ?= 100
P ?= 4
TESTS ?= 3A 3B 3C 3D

.PHONY: help test unit test-3A test-3B test-3C test-3D test-lab3 stress stress-list grade bench-lab3 bench-labrpc loom miri lint doc

help:
	@echo "make test        unit tests of every crate, then the whole Lab 3 suite once"
	@echo "make test-3A     one part of Lab 3 (also test-3B, test-3C, test-3D); make test-lab3 runs all 28"
	@echo "make stress      N runs of each test of TESTS with P workers (N=$(N) P=$(P) TESTS='$(TESTS)')"
	@echo "make grade       per-test pass/fail and time, per-part wall/CPU, against the course's limits"
	@echo "make bench-lab3  the whole suite once: per-test time/RPCs/bytes, suite wall/CPU/max RSS"
	@echo "make bench-labrpc  labrpc round trips per second and CPU per call"
	@echo "make loom / miri   model checks / undefined-behaviour checks"
	@echo "make lint        rustfmt, clippy and rustdoc, all warnings denied"

test: unit test-lab3

unit:
	$(CARGO) test --workspace --exclude tester
	$(CARGO) test -p tester --lib

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

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

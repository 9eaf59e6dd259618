# AgentRT: the two commands a new user runs are `make demo` and `make test`.
SHELL := /bin/bash
BUILD ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CTEST_ARGS ?=
CMAKE_ARGS ?=

.PHONY: all setup configure build test stress-test demo bench fuzz sanitize ci clean help

all: build

help:
	@echo "make demo   - install what is missing, build, run an agent task end to end on the CPU"
	@echo "make test   - install what is missing, build, run the whole test suite"
	@echo "make stress-test - the whole test suite with ctest -j 4 while two CPU hogs run (a loaded machine)"
	@echo "make bench  - build and run the benchmarks"
	@echo "make sanitize - build with clang under ASan + UBSan (build-san/) and run the whole test suite there"
	@echo "make fuzz   - build the fuzz targets in that build and run each for FUZZ_SECONDS (default 60)"
	@echo "make ci     - what CI runs: make test, make sanitize, make fuzz FUZZ_SECONDS=20 (.ci/run)"
	@echo "make clean  - remove the build folder"

# Debian packages first, then the npm packages some end-to-end tests use (each scripts/setup-npm-* script).
setup:
	@./scripts/setup-deps
	@for s in scripts/setup-npm-*; do if [ -x "$$s" ]; then "$$s" || exit 1; fi; done

CONFIGURE = cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) \
	  > $(BUILD).configure.log 2>&1 || { cat $(BUILD).configure.log; exit 1; }

configure: setup
	@$(CONFIGURE)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS) 2>&1 | tee ctest.log; \
	  status=$${PIPESTATUS[0]}; \
	  echo; echo "== test summary =="; grep -E "tests passed|tests failed|Total Test time" ctest.log || true; \
	  exit $$status

# The suite on a loaded machine: four tests at a time while two busy loops take CPU time; no test may depend on
# timing it does not control. The hogs end with the run, however it ends.
STRESS_JOBS ?= 4
stress-test: build
	@cd $(BUILD) && hogs=(); \
	  for i in 1 2; do /bin/sh -c 'while :; do :; done' & hogs+=($$!); done; \
	  trap 'kill $${hogs[@]} 2>/dev/null' EXIT INT TERM; \
	  ctest --output-on-failure -j $(STRESS_JOBS) $(CTEST_ARGS) 2>&1 | tee ctest-stress.log; \
	  status=$${PIPESTATUS[0]}; \
	  echo; echo "== stress test summary (ctest -j $(STRESS_JOBS), 2 CPU hogs) =="; \
	  grep -E "tests passed|tests failed|Total Test time" ctest-stress.log || true; \
	  exit $$status

# The demo needs the Debian packages and the two programs only (not the npm packages, not the test suite).
demo:
	@./scripts/setup-deps
	@$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS) --target agentrt agentrt-sandbox
	@./examples/demo.sh $(BUILD)

bench: build
	cmake --build $(BUILD) --target bench

# One clang-14 build (build-san/) with ASan + UBSan and libFuzzer's coverage serves both: the whole test suite
# under the sanitizers, and the libFuzzer targets, each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
sanitize: setup
	JOBS=$(JOBS) ./scripts/sanitize $(CTEST_ARGS)

fuzz: setup
	JOBS=$(JOBS) ./scripts/fuzz $(FUZZ_SECONDS)

ci:
	./.ci/run

clean:
	rm -rf $(BUILD) $(BUILD).configure.log

# AgentRT: the two commands a new user runs are `make demo` and `make test`.
SHELL := /bin/bash
BUILD ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CTEST_ARGS ?=
CMAKE_ARGS ?=

.PHONY: all setup configure build test demo bench fuzz clean help

all: build

help:
	@echo "make demo   - install what is missing, build, run an agent task end to end on the CPU"
	@echo "make test   - install what is missing, build, run the whole test suite"
	@echo "make bench  - build and run the benchmarks"
	@echo "make clean  - remove the build folder"

setup:
	@./scripts/setup-deps

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) > $(BUILD).configure.log 2>&1 \
	  || { cat $(BUILD).configure.log; exit 1; }

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS) 2>&1 | tee ctest.log; \
	  status=$${PIPESTATUS[0]}; \
	  echo; echo "== test summary =="; grep -E "tests passed|tests failed|Total Test time" ctest.log || true; \
	  exit $$status

demo: build
	@./examples/demo.sh $(BUILD)

bench: build
	cmake --build $(BUILD) --target bench

clean:
	rm -rf $(BUILD) $(BUILD).configure.log

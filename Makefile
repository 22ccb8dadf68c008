# TEEChain - a thin front for people; CMake does the building.
#   make deps     install the Debian packages the project needs (idempotent)
#   make          release build (-Wall -Wextra -Werror) into build/
#   make test     deps + build + every test through CTest (unit, conformance, sim)
#   make asan     the same tests under AddressSanitizer + UBSan (build-asan/)
#   make fuzz     libFuzzer targets with clang (build-fuzz/fuzz/)
#   make run      the main job (see README)
#   make bench    the benchmarks (bench/), figures for docs/benchmarks.md
#   make format   clang-format every C file
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps build test asan fuzz run bench format format-check sim-long clean

all: build

deps:
	@scripts/deps.sh

build/CMakeCache.txt:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release

build: build/CMakeCache.txt
	cmake --build build -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory build
	cd build && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTC_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTC_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)
	@echo "fuzzers in build-fuzz/fuzz/; see docs/testing.md to run them"

run: deps
	@$(MAKE) --no-print-directory build
	@scripts/run.sh

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build
	@scripts/bench.sh

sim-long: deps
	@$(MAKE) --no-print-directory build
	@scripts/sim-long.sh $(SEEDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

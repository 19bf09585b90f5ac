# restack: the two commands. `make demo` and `make test` each install what is
# missing (Debian 12, as root), configure with CMake + Ninja into build/, build,
# and run. See README.md.

BUILD_DIR ?= build
CMAKE_BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

# Debian packages needed to build and test (fixture generators such as wine64
# and clang-19 are NOT needed: generated fixtures are committed).
PACKAGES := cmake ninja-build g++ pkg-config llvm-19-dev libzydis-dev libabsl-dev \
	libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev mingw-w64-common libarchive-dev zlib1g-dev \
	libunicorn-dev

.PHONY: all deps configure build test demo clean fuzz bench

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "restack: installing:" $$missing; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing \
	    || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; }; \
	else \
	  echo "restack: missing packages; run as root:"; \
	  echo "  apt-get install -y --no-install-recommends $$missing"; \
	  exit 1; \
	fi

configure: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE); \
	fi

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The seed's 0x44 investigation on the bundled dumps (demo/, docs/demo.md); about a
# second after the build. Its nearest-public names use llvm-pdbutil-19 (llvm-19, which
# llvm-19-dev depends on).
demo: build
	@./tools/demo.sh $(BUILD_DIR)

# Benchmarks against named peers (docs/benchmarks.md); not part of `make test`.
bench: build
	$(BUILD_DIR)/tests/bench/kernel_dump_bench
	@if command -v python3 >/dev/null; then python3 tests/bench/symbolize_vs_llvm_symbolizer.py --build-dir $(BUILD_DIR); \
	else echo "restack: python3 missing: symbolize_vs_llvm_symbolizer.py skipped"; fi

# libFuzzer targets (clang-19); see docs/fuzzing.md.
fuzz: deps
	@dpkg-query -W -f='$${Status}\n' clang-19 2>/dev/null | grep -q 'install ok installed' || \
	  { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang-19 libclang-rt-19-dev; }
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 -DRESTACK_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR) build-fuzz

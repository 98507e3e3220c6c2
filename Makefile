# The two commands: `make demo` and `make test`.  Both install what is missing first.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all setup build demo demo-logreg test test-asan bench bench-compare clean

all: build

setup:
	@scripts/setup

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The main job: the seed CNN on Fashion-MNIST, 5 epochs, progress bar, test accuracy, model + curves.
demo: build
	@scripts/get-data fashion-mnist
	$(BUILD)/apps/koan/koan train configs/fashion_mnist_cnn.json

# The first demo: logistic regression fitted with autograd on generated data.
demo-logreg: build
	$(BUILD)/apps/demo/koan_demo

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: setup
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DKOAN_SANITIZE=ON -DKOAN_BUILD_APPS=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

bench:
	@scripts/setup --bench
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DKOAN_BUILD_BENCH=ON
	cmake --build $(BUILD) -j $(JOBS)
	@for b in $(BUILD)/bench/bench_*; do [ -x "$$b" ] && "$$b"; done

# koan against libtorch in one run: prints the table and adds it to docs/PERFORMANCE.md.
# Its own build folder (build-compare); libtorch is installed and linked only here.
#   make bench-compare ARGS="--quick --only cnn,gemm"      (--full adds 5 CNN epochs; --no-doc prints only)
bench-compare:
	JOBS=$(JOBS) scripts/bench-compare $(ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-compare

# The two commands a new user needs: `make run` and `make test`. Everything else is here
# for developers. Every target installs what is missing first (scripts/install-deps.sh is
# idempotent and quick when nothing is missing).
BUILD        ?= build
SAN_BUILD    ?= build-san
SHARED       ?= ../shared
CORPUS       ?= .cache/corpus/spamassassin
FUZZ_SECONDS ?= 300
CI_FUZZ_SECONDS ?= 5
JOBS         ?= $(shell nproc)

.PHONY: all deps build san-build run scan test unit fuzz fuzz-smoke bench corpus format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

# The gateway with the embedded default: SMTP on 127.0.0.1:2525, data under ./var/.
run: build
	@echo "bulwark serve: SMTP on 127.0.0.1:2525, data under ./var/ (Ctrl-C to stop)"
	@echo "Try: swaks --server 127.0.0.1:2525 --from bob@example.org --to alice@example.com"
	./$(BUILD)/bulwark serve

# A sample mailbox, scanned and explained.
scan: build
	./$(BUILD)/bulwark scan --format text examples/ || true
	@echo
	@echo "Explain one: ./$(BUILD)/bulwark scan --explain examples/evasive-duplicate-content-type.eml"

corpus:
	@if [ -x $(SHARED)/corpus/fetch-spamassassin.sh ]; then \
	  bash $(SHARED)/corpus/fetch-spamassassin.sh $(CORPUS); \
	else echo "no $(SHARED)/corpus: corpus tests will fail"; fi

# The whole suite twice: under ASan + UBSan (clang, with the fuzz targets, whose seed
# corpora are replayed and briefly fuzzed), then on the real hardened build, last, so the
# closing line is ctest's summary.
test: build san-build corpus fuzz-smoke
	cd $(SAN_BUILD) && BULWARK_CORPUS=$(abspath $(CORPUS)) ctest --output-on-failure -j $(JOBS)
	cd $(BUILD) && BULWARK_CORPUS=$(abspath $(CORPUS)) ctest --output-on-failure -j $(JOBS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Sanitizer build: clang, ASan + UBSan, libFuzzer instrumentation; tests and fuzz targets.
$(SAN_BUILD)/build.ninja: CMakeLists.txt
	CC=clang CXX=clang++ cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DBULWARK_FUZZ=ON -DBULWARK_TESTS=ON -DBULWARK_BENCH=OFF

san-build: deps $(SAN_BUILD)/build.ninja
	ninja -C $(SAN_BUILD) -j $(JOBS)

fuzz-smoke: san-build
	bash scripts/fuzz.sh $(SAN_BUILD) $(CI_FUZZ_SECONDS)

fuzz: san-build
	bash scripts/fuzz.sh $(SAN_BUILD) $(FUZZ_SECONDS)

bench: build corpus
	./$(BUILD)/bench/mime/bench_mime $(CORPUS)
	BULWARK_BINARY=./$(BUILD)/bulwark bash bench/smtp/bench_smtp.sh
	bash bench/sandbox/bench_sandbox.sh ./$(BUILD)/bulwark $(CORPUS)
	bash bench/inspect/bench_inspect.sh ./$(BUILD)/bulwark $(CORPUS)

format:
	find src tests bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(SAN_BUILD)

# The two commands a new user needs: `make run` and `make test`. Everything else is here
# for developers. Every target installs what is missing first (scripts/install-deps.sh is
# idempotent and quick when nothing is missing).
BUILD        ?= build
FUZZ_BUILD   ?= build-fuzz
SHARED       ?= ../shared
CORPUS       ?= .cache/corpus/spamassassin
FUZZ_SECONDS ?= 300
CI_FUZZ_SECONDS ?= 5
JOBS         ?= $(shell nproc)

.PHONY: all deps build run test unit fuzz fuzz-smoke bench corpus format clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

# Until the SMTP gateway exists, the main job is scanning: a sample mailbox, explained.
run: build
	./$(BUILD)/bulwark scan --format text examples/ || true
	@echo
	@echo "Explain one: ./$(BUILD)/bulwark scan --explain examples/evasive-duplicate-content-type.eml"

corpus:
	@if [ -x $(SHARED)/corpus/fetch-spamassassin.sh ]; then \
	  bash $(SHARED)/corpus/fetch-spamassassin.sh $(CORPUS); \
	else echo "no $(SHARED)/corpus: corpus tests will fail"; fi

# Fuzz smoke first (replays every seed corpus, then fuzzes each target briefly), unit and
# corpus tests last, so the closing line is ctest's summary.
test: build corpus fuzz-smoke
	cd $(BUILD) && BULWARK_CORPUS=$(abspath $(CORPUS)) ctest --output-on-failure -j $(JOBS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

$(FUZZ_BUILD)/build.ninja: CMakeLists.txt
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DBULWARK_FUZZ=ON -DBULWARK_TESTS=OFF -DBULWARK_BENCH=OFF

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j $(JOBS) fuzzers

fuzz-smoke: fuzz-build
	bash scripts/fuzz.sh $(FUZZ_BUILD) $(CI_FUZZ_SECONDS)

fuzz: fuzz-build
	bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build corpus
	./$(BUILD)/bench/mime/bench_mime $(CORPUS)

format:
	find src tests bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)

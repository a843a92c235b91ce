# eventroute — build, test, benchmark and run the local mesh.
# Every target installs what it needs through the Go module proxy; nothing is installed by hand.

GO        ?= go
BUILD     := build
WASM      := $(BUILD)/eventroute.wasm
HOSTSIM   := $(BUILD)/hostsim
WASMFLAGS := GOOS=wasip1 GOARCH=wasm
PKGS      := ./...
BENCHTIME ?= 1s
ARGS      ?=

.PHONY: all build test bench run check fuzz clean

all: build

# The plugin, rebuilt when any Go file it may depend on changes.
$(WASM): go.mod go.sum $(shell find plugin filters -name '*.go' -not -name '*_test.go' 2>/dev/null)
	@mkdir -p $(BUILD)
	@echo "building $(WASM) (first build takes a while)..."
	$(WASMFLAGS) $(GO) build -buildmode=c-shared -trimpath -o $(WASM) ./plugin

$(HOSTSIM): go.mod go.sum $(shell find hostsim -name '*.go' -not -name '*_test.go' 2>/dev/null)
	@mkdir -p $(BUILD)
	@echo "building $(HOSTSIM)..."
	$(GO) build -trimpath -o $(HOSTSIM) ./hostsim/cmd/hostsim

build: $(WASM) $(HOSTSIM)

# check: formatting, vet (native and wasip1), module tidiness.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(WASMFLAGS) $(GO) vet ./plugin/... ./filters/...

# test: everything, including the wasm guests built and run through hostsim and the fuzz seed corpora.
test: check build
	$(GO) test -count=1 -timeout 40m $(PKGS)

# bench: Go benchmarks; ratios are computed against BenchmarkEmptyGuest in the same run.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m $(PKGS)

# run: the demo mesh (SPEC §5). make run ARGS=--once exits after the scenario.
run: build
	$(HOSTSIM) replay -c testdata/mesh/demo.yaml -s testdata/demo/scenario.yaml $(ARGS)

# fuzz: FUZZTIME per target (default 30s); see README for the list of targets.
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf $(BUILD)

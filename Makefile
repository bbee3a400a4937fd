# eventbridge — the two commands a new user needs:
#   make run    build and run the bridge on examples/quickstart.yaml
#   make test   run the tests
# make help lists every target: the text after "## " on a target's line.
SHELL := /bin/bash
GO ?= go
BIN := bin/eventbridge
PKG := github.com/eventbridge-dev/eventbridge
VERSION ?= $(shell git describe --tags --abbrev=0 2>/dev/null || echo 0.1.0-dev)
BUILD ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
GITTAG ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Build=$(BUILD) -X $(PKG)/internal/version.GitTag=$(GITTAG)
CONFIG ?= examples/quickstart.yaml
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Test timeouts: the whole suite is kept near 10 minutes on 2 cores.
TEST_FLAGS ?= -race -timeout 15m

.PHONY: all help build compile run test test-deps test-integration test-interop test-examples test-short lint check cover fuzz clean proto

include bench/Makefile.inc

all: build ## the default: build

help: ## list the targets, one line each
	@echo "make TARGET  (variables: CONFIG=$(CONFIG) for run, GO, TEST_FLAGS, FUZZTIME, BENCH_FLAGS)"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The first build downloads the modules and compiles them: minutes, silent.
build: ## build bin/eventbridge with version, build and git tag baked in
	@echo "==> building $(BIN) (the first build downloads and compiles the dependencies: a few minutes)"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/eventbridge

compile: build ## the same as build

run: build ## build and run the bridge on CONFIG (examples/quickstart.yaml; make run CONFIG=my.yaml)
	@echo "==> starting the bridge on $(CONFIG); Ctrl-C stops it"
	./$(BIN) serve --config $(CONFIG)

# make test first prepares, best effort, what the integration tests need
# (scripts/test-deps.sh --quick: quick when all is there, never fails);
# without it they skip and say what is missing. TEST_DEPS= turns it off.
TEST_DEPS ?= GO=$(GO) scripts/test-deps.sh --quick
test: build ## run every test (-race), integration tests skip what is missing
	@-$(TEST_DEPS)
	EVENTBRIDGE_BIN=$(CURDIR)/$(BIN) $(GO) test $(TEST_FLAGS) ./...

# Install what the tests need: the client programs (Debian packages),
# AMQP 1.0 on RabbitMQ 3.x (its plugin) and grpcurl in bin/tools. As root;
# otherwise it prints the commands. scripts/test-deps.sh --check reports.
test-deps: ## install what the integration tests need (as root; else prints the commands)
	GO=$(GO) scripts/test-deps.sh

test-short: ## the tests with -short (quick, no race detector)
	$(GO) test -short ./...

# Integration tests against the machine's brokers; a missing broker fails.
test-integration: build ## tests against the local brokers; a missing broker fails
	@-$(TEST_DEPS)
	EVENTBRIDGE_INTEGRATION=1 EVENTBRIDGE_BIN=$(CURDIR)/$(BIN) $(GO) test -timeout 15m -run Integration ./...

# The open-cluster-management compatibility tests: OCM's own CloudEvents
# clients against pkg/cloudsync and the gRPC broker, over Mosquitto and
# the built bridge. test/interop is its own Go module (the OCM SDK brings
# Kubernetes dependencies the main go.mod does not take), so ./... above
# does not reach it.
test-interop: build ## OCM compatibility tests (module test/interop; Mosquitto, the built bridge)
	cd test/interop && EVENTBRIDGE_BIN=$(CURDIR)/$(BIN) $(GO) test $(TEST_FLAGS) ./...

# examples/custom-connector is its own Go module, as a user's program
# with its own connectors would be: its test builds that binary and
# delivers an event through its custom target.
test-examples: ## build and test examples/custom-connector (its own module; a bridge with its own connectors)
	cd examples/custom-connector && $(GO) test $(TEST_FLAGS) ./...

lint: ## go vet, gofmt and staticcheck (also of the test/interop and examples/custom-connector modules)
	$(GO) vet ./...
	cd test/interop && $(GO) vet ./...
	cd examples/custom-connector && $(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...
	cd test/interop && $(GO) run $(STATICCHECK) ./...
	cd examples/custom-connector && $(GO) run $(STATICCHECK) ./...

# check is what to run before pushing: lint, then the short tests.
check: lint test-short ## lint, then test-short

cover: ## coverage summary of the short tests
	$(GO) test -short -coverprofile=cover.out ./... && $(GO) tool cover -func=cover.out | tail -1

# Short fuzz runs of every fuzz target (FUZZTIME each).
FUZZTIME ?= 20s
fuzz: ## short runs of every fuzz target (FUZZTIME each)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep ^Fuzz); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

# Regenerate the gRPC connector's code from its .proto (the output is
# committed; only changing the .proto needs this). Installs protoc from
# Debian and the Go plugins at pinned versions into bin/tools.
PROTO_DIR := pkg/cepb
proto: ## regenerate the gRPC connector's code from its .proto
	command -v protoc >/dev/null || (apt-get update && apt-get install -y protobuf-compiler)
	GOBIN=$(CURDIR)/bin/tools $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	GOBIN=$(CURDIR)/bin/tools $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
	cd $(PROTO_DIR) && PATH=$(CURDIR)/bin/tools:$$PATH protoc -I . \
	  -I $$($(GO) list -m -f '{{.Dir}}' github.com/cloudevents/sdk-go/binding/format/protobuf/v2)/pb -I /usr/include \
	  --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative \
	  cloudevent_service.proto

clean: ## remove bin, data and cover.out
	rm -rf bin data cover.out

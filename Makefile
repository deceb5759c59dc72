# cdcd — see README.md. Every target works on a fresh clone.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
export CGO_ENABLED ?= 0

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The release flags; the Dockerfile uses the same ones.
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOFLAGS_BUILD := -trimpath -ldflags "$(LDFLAGS)"

.PHONY: all build deps test test-short demo bench lint fuzz clean

all: build

build:
	go build $(GOFLAGS_BUILD) -o bin/cdcd ./cmd/cdcd

# Installs the servers the tests start privately (Postgres, MariaDB, kcat)
# when they are missing; fails loudly when it cannot.
deps:
	@bash scripts/install-deps.sh

# -race needs cgo. The private servers' data directories go to /dev/shm
# when it is writable: creating files there is ~7x faster than in /tmp here.
TEST_TMPDIR ?= $(shell [ -w /dev/shm ] && echo /dev/shm || echo $${TMPDIR:-/tmp})
test: deps
	TMPDIR=$(TEST_TMPDIR) CGO_ENABLED=1 go test -race -count=1 -timeout 20m ./...

# Built, not `go run`: go run exits 1 when Ctrl-C interrupts its child,
# even though the demo stops cleanly.
demo: deps build
	go build -o bin/cdcd-demo ./internal/demo
	exec bin/cdcd-demo -cdcd bin/cdcd

bench: deps build
	go run ./bench -cdcd bin/cdcd -results bench/RESULTS.md

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...

clean:
	rm -rf bin

# Customer 360: build, test and run. `make test` is what CI runs (through .ci/run).
#
#   make build        debug build of every product and the tests
#   make test         contract freshness, formatting, the C client's build, swift tests (unit + integration against the built
#                     executables, the C client against the gateway among them, outreach-service against real SMTP and
#                     webhook peers in Python), Python smoke
#   make c-client     the C point-of-sale client, clients/c/build/pos (C11, warnings are errors)
#   make smoke        the Python smoke test only (needs `make build`)
#   make deploy-check systemd units, Kubernetes manifests and the Containerfile, validated offline
#   make run          every service locally (deploy/local/run.sh)
#   make generate     regenerate Shared/Contracts/Generated from Proto/ (needs protoc)
#   make format       format every Swift file as .swift-format says (swift format, in the toolchain)
#   make clean-data   delete ./data, the local services' databases

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

SWIFT ?= swift
# Integration tests and the smoke test start the executables from here. Evaluated by the shell in each recipe line
# that uses it, so targets that do not need it never start SwiftPM.
BIN_DIR = $$($(SWIFT) build --show-bin-path)

.PHONY: build c-client test check-contracts check-format format swift-test smoke deploy-check run generate clean-data
# One step at a time: the steps share a 2-core machine and SwiftPM's .build lock.
.NOTPARALLEL:

build:
	@echo "==> swift build --build-tests"
	$(SWIFT) build --build-tests

test: check-contracts check-format deploy-check build c-client swift-test smoke
	@echo "==> all tests passed"

deploy-check:
	@echo "==> deploy/ validated offline"
	scripts/ci-validate-deploy.sh

check-contracts:
	@echo "==> generated contracts match Proto/"
	scripts/generate-contracts.sh --check

check-format:
	@echo "==> Swift files formatted as .swift-format says"
	scripts/format.sh --check

format:
	scripts/format.sh

c-client:
	@echo "==> C client (clients/c)"
	$(MAKE) -C clients/c

# swift-testing runs tests in parallel within the process by default; --skip-build because `build` just built them.
# C360_C_CLIENT is the binary CClientTests runs against the gateway; set, it must exist. C360_TEST_PYTHON runs the
# real peers in Tests/Peers/ (the SMTP server and webhook outreach-service delivers to): the interpreter of
# .venv-test-peers, which scripts/test-peers-venv.sh creates when missing and prints.
swift-test: build c-client
	@echo "==> swift test"
	python=$$(scripts/test-peers-venv.sh); \
	  C360_TEST_PYTHON="$$python" C360_BIN_DIR="$(BIN_DIR)" C360_C_CLIENT="$(CURDIR)/clients/c/build/pos" \
	  $(SWIFT) test --skip-build

smoke: build
	@echo "==> Python smoke test"
	C360_BIN_DIR="$(BIN_DIR)" clients/python/run-smoke.sh

run:
	deploy/local/run.sh

generate:
	scripts/generate-contracts.sh

clean-data:
	rm -rf ./data

# The test command CI runs (.ci/run) and the README documents.
GO ?= go
PKGS := ./...

.PHONY: test vet fmt-check assets-check assets browser light fake bench

## test: vet, gofmt check, one quick pass of the endpoint benchmarks (so that
## they keep working), and the race-enabled short test suite. The browser
## tests must run here, not skip: make installs Chromium when it is missing.
test: vet fmt-check assets-check browser
	$(GO) test -run '^$$' -bench BenchmarkEndpoint -benchtime 20x -count=1 ./perf
	PERF_REQUIRE_BROWSER=1 $(GO) test -race -short -count=1 $(PKGS)

## assets: regenerate the web UI's precompressed .br/.gz files after editing internal/web/assets.
assets:
	$(GO) generate ./internal/web

## assets-check: fail when a precompressed web asset is stale (browsers are served those).
assets-check:
	$(GO) run ./scripts/assets -check

## browser: Debian's Chromium for the HTML report's browser test, when missing.
browser:
	@scripts/install-chromium.sh

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## light: the main job, the light load scenario against the embedded fake.
light:
	$(GO) test ./perf -run TestLoadLight -v -count=1

## fake: the X-Agent fake as a standalone server on 127.0.0.1:8000.
fake:
	$(GO) run ./scripts/fakeapi -addr 127.0.0.1:8000

## bench: per-endpoint throughput benchmarks.
bench:
	$(GO) test ./perf -run '^$$' -bench . -benchtime 2s

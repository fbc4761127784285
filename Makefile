# activation-bot. `make test` is the test command (README, CI).
# Postgres tests run when TEST_DATABASE_URL is set, e.g.
#   TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' make test
GO ?= go

.PHONY: test vet bench run chat check fmt

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

bench:
	$(GO) test ./bot ./adapters/telegram ./adapters/slack ./adapters/web -run '^$$' -bench . -benchmem

run:
	$(GO) run . serve

chat:
	$(GO) run . chat

check:
	$(GO) run . content check

fmt:
	gofmt -w $$(git ls-files '*.go')

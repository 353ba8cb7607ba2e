# pam-totp build. `make` builds into build/; `make test` runs every test this
# machine can run. Each part keeps its rules in its own folder.

GO      ?= go
CC      ?= cc
BUILD   ?= build
GOFLAGS ?= -trimpath
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

export CGO_ENABLED := 1

.PHONY: all test test-go bench clean
all:

include pam_module/module.mk
include enroll_cli/cli.mk
include packaging/packaging.mk
include packaging/dockertest/docker.mk

$(BUILD):
	mkdir -p $(BUILD)

# Every Go test, the PAM and sshd tests among them; they find the built
# module and CLI through PAM_TOTP_BUILD.
test-go: all
	PAM_TOTP_BUILD=$(abspath $(BUILD)) $(GO) test -count=1 -timeout 20m ./...

test: test-go

clean:
	rm -rf $(BUILD)

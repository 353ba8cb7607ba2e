# Rules for enroll_cli: the administrator's command, totpctl.

all: $(BUILD)/totpctl

TOTPCTL_SRC := $(shell find enroll_cli core -name '*.go' ! -name '*_test.go') go.mod go.sum

# Built as a position-independent executable with full RELRO, the hardening
# Debian expects of a program in /usr/sbin. The version comes from git
# describe; without -X, totpctl --version falls back on the module's build
# information.
$(BUILD)/totpctl: $(TOTPCTL_SRC) | $(BUILD)
	$(GO) build $(GOFLAGS) -buildmode=pie -ldflags "-X main.version=$(VERSION) \
		-linkmode=external -extldflags '-Wl,-z,relro,-z,now'" -o $@ ./enroll_cli

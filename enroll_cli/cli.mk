# Rules for enroll_cli: the administrator's command, totpctl.

all: $(BUILD)/totpctl

TOTPCTL_SRC := $(shell find enroll_cli core -name '*.go' ! -name '*_test.go') go.mod go.sum

# The version comes from git describe; without -X, totpctl --version falls
# back on the module's build information.
$(BUILD)/totpctl: $(TOTPCTL_SRC) | $(BUILD)
	$(GO) build $(GOFLAGS) -ldflags "-X main.version=$(VERSION)" -o $@ ./enroll_cli

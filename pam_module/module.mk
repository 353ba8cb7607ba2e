# Rules for pam_module: the PAM module pam_totp.so, a small C loader, and
# the Go library pam_totp_go.so that holds the module's logic and that the
# loader opens inside pam_sm_authenticate (see pam_module/main.go for why).

MULTIARCH       ?= $(shell $(CC) -print-multiarch)
PAM_TOTP_LIBDIR ?= /usr/lib/$(MULTIARCH)/pam-totp

PAM_CFLAGS      ?= -O2 -g
PAM_LOADER_CFLAGS = $(PAM_CFLAGS) -std=c11 -Wall -Wextra -Werror -fPIC \
	-fvisibility=hidden -fstack-protector-strong -D_FORTIFY_SOURCE=2
PAM_LOADER_LDFLAGS = -shared -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack \
	-Wl,--as-needed
PAM_LOADER_LIBS = -lpam -ldl

PAM_GO_SRC := $(wildcard pam_module/*.go pam_module/*.c pam_module/*.h \
	pam_module/*.map core/*/*.go) go.mod go.sum
# Only the symbols in the map are exported; -soname names the library.
pam_go_ldflags = -extldflags "-Wl,--version-script=$(abspath $(1)) \
	-Wl,-soname,pam_totp_go.so -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack"
pam_go_build = $(GO) build $(GOFLAGS) -buildmode=c-shared $(2) \
	-ldflags '$(call pam_go_ldflags,$(1))' -o $@ ./pam_module && \
	rm -f $(@:.so=.h)

all: $(BUILD)/pam_totp.so $(BUILD)/pam_totp_go.so $(BUILD)/pkg/pam_totp.so

$(BUILD)/pam_totp.so: pam_module/loader/pam_totp.c | $(BUILD)
	$(CC) $(PAM_LOADER_CFLAGS) -o $@ $< $(PAM_LOADER_LDFLAGS) $(PAM_LOADER_LIBS)

# The installed loader looks for the Go library in PAM_TOTP_LIBDIR.
$(BUILD)/pkg/pam_totp.so: pam_module/loader/pam_totp.c
	@mkdir -p $(@D)
	$(CC) $(PAM_LOADER_CFLAGS) -DPAM_TOTP_LIBDIR='"$(PAM_TOTP_LIBDIR)"' \
		-o $@ $< $(PAM_LOADER_LDFLAGS) $(PAM_LOADER_LIBS)

$(BUILD)/pam_totp_go.so: $(PAM_GO_SRC) | $(BUILD)
	$(call pam_go_build,pam_module/exports.map,)

# Test builds, never installed: build/test/hooks holds the loader and a Go
# library that accepts test-only arguments (test_panic, test_goroutines);
# build/test/direct holds a Go library that is itself a PAM module, which
# hangs sshd, for the negative control of the sshd test.
PAM_TEST_LIBS = $(BUILD)/test/hooks/pam_totp.so \
	$(BUILD)/test/hooks/pam_totp_go.so $(BUILD)/test/direct/pam_totp_go.so

.PHONY: pam-test-libs
pam-test-libs: $(PAM_TEST_LIBS)
test-go: pam-test-libs

$(BUILD)/test/hooks/pam_totp.so: $(BUILD)/pam_totp.so
	@mkdir -p $(@D)
	cp $< $@

$(BUILD)/test/hooks/pam_totp_go.so: $(PAM_GO_SRC)
	@mkdir -p $(@D)
	$(call pam_go_build,pam_module/exports.map,-tags pamtotp_testhooks)

$(BUILD)/test/direct/pam_totp_go.so: $(PAM_GO_SRC)
	@mkdir -p $(@D)
	$(call pam_go_build,pam_module/exports_direct.map,-tags pamtotp_direct)

# make bench (as root): pam_totp against pam_google_authenticator, with
# pam_permit for reference, through the same C driver. The state of both
# modules is kept in $TMPDIR for docs/bench.md, and on tmpfs for
# docs/bench-tmpfs.md, which shows the costs apart from fsync.
bench: $(BUILD)/pam_totp.so $(BUILD)/pam_totp_go.so
	$(GO) run ./pam_module/bench -build $(BUILD) -out docs/bench.md
	$(GO) run ./pam_module/bench -build $(BUILD) -out docs/bench-tmpfs.md -dir /dev/shm

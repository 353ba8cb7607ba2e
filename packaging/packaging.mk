# Rules for packaging: "make install" and "make deb".
#
#   make install                  installs under / (binaries under /usr)
#   make install DESTDIR=/tmp/x   the same tree under /tmp/x
#   make install PREFIX=/usr/local
#   make deb                      build/pam-totp_<version>_<arch>.deb
#   make deb-lint                 the .deb, then lintian on it
#
# PREFIX moves totpctl, the man pages and the documentation. It does not
# move the PAM module, which must be where libpam looks for modules
# (/lib/<multiarch>/security), nor the Go library, which must be where the
# module was compiled to look for it (PAM_TOTP_LIBDIR of
# pam_module/module.mk), nor /etc/pam-totp and /var/lib/pam-totp, the paths
# the module and totpctl use by default.

PREFIX        ?= /usr
DESTDIR       ?=
MULTIARCH     ?= $(shell $(CC) -print-multiarch)
PAMDIR        ?= /lib/$(MULTIARCH)/security
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var

# Where the installed module loads pam_totp_go.so from: the directory that
# $(BUILD)/pkg/pam_totp.so was compiled with.
PKG_GODIR = $(or $(PAM_TOTP_LIBDIR),/usr/lib/$(MULTIARCH)/pam-totp)

MAN_PAGES = pam_totp.8 totpctl.8 pam-totp.yaml.5
MAN_GZ    = $(MAN_PAGES:%=$(BUILD)/man/%.gz)
PKG_BINS  = $(BUILD)/pkg/pam_totp.so $(BUILD)/pam_totp_go.so $(BUILD)/totpctl
DOCDIR    = $(PREFIX)/share/doc/pam-totp

.PHONY: install deb deb-lint

$(BUILD)/man/%.gz: packaging/man/% | $(BUILD)
	mkdir -p $(BUILD)/man
	gzip -9n -c $< >$@

# install-files DESTDIR: the files of the package, without the state
# directory (created by "make install" and, in the package, by postinst).
define install-files
	install -d -m 0755 $(1)$(PAMDIR) $(1)$(PKG_GODIR) $(1)$(PREFIX)/sbin \
		$(1)$(PREFIX)/share/man/man5 $(1)$(PREFIX)/share/man/man8 \
		$(1)$(DOCDIR)/examples $(1)$(SYSCONFDIR)/pam-totp
	install -m 0644 $(BUILD)/pkg/pam_totp.so $(1)$(PAMDIR)/pam_totp.so
	install -m 0644 $(BUILD)/pam_totp_go.so $(1)$(PKG_GODIR)/pam_totp_go.so
	install -m 0755 $(BUILD)/totpctl $(1)$(PREFIX)/sbin/totpctl
	install -m 0644 $(BUILD)/man/pam_totp.8.gz $(BUILD)/man/totpctl.8.gz \
		$(1)$(PREFIX)/share/man/man8/
	install -m 0644 $(BUILD)/man/pam-totp.yaml.5.gz $(1)$(PREFIX)/share/man/man5/
	install -m 0644 README.md $(1)$(DOCDIR)/README.md
	cp -R contrib/. $(1)$(DOCDIR)/examples/
	find $(1)$(DOCDIR)/examples -type d -exec chmod 0755 {} +
	find $(1)$(DOCDIR)/examples -type f -exec chmod 0644 {} +
	if [ -e $(1)$(SYSCONFDIR)/pam-totp/config.yaml ]; then \
		echo "keeping the existing $(1)$(SYSCONFDIR)/pam-totp/config.yaml"; \
	else \
		install -m 0644 packaging/config.yaml $(1)$(SYSCONFDIR)/pam-totp/config.yaml; \
	fi
endef

# The host key is not made here: "totpctl init" makes it on the machine
# that uses it.
install: $(PKG_BINS) $(MAN_GZ)
	$(call install-files,$(DESTDIR))
	install -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/LICENSE
	install -d -m 0700 $(DESTDIR)$(LOCALSTATEDIR)/lib/pam-totp
	@echo "Installed. Next: 'totpctl init' (as root) creates the host key."

# The .deb is built with dpkg-deb from a staged tree: Debian's own tool,
# nothing to download, and every field of the control file in our hands.
# The staged tree has the same files as "make install", stripped, plus the
# Debian copyright file and changelog; mkdeb.sh does the rest.
DEB_STAGE = $(BUILD)/deb/debian/pam-totp

deb: $(PKG_BINS) $(MAN_GZ)
	rm -rf $(BUILD)/deb $(BUILD)/pam-totp_*.deb
	$(call install-files,$(DEB_STAGE))
	PREFIX=$(PREFIX) PAMDIR=$(PAMDIR) PKG_GODIR=$(PKG_GODIR) \
		sh packaging/mkdeb.sh $(BUILD) $(DEB_STAGE) '$(VERSION)'

deb-lint: deb
	lintian --fail-on error $(BUILD)/pam-totp_*.deb

# The Go tests inspect the .deb when there is one: build it first.
test-go: deb

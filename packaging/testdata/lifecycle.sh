#!/bin/sh
# Install, upgrade, remove, reinstall and purge the package in a throw-away
# Debian system, checking what each step must keep or delete. Run as root
# inside a container, with the package at /pkg.deb. Exits non-zero at the
# first check that fails.
set -eu

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
mode() { stat -c '%a %U:%G' "$1"; }

dpkg -i /pkg.deb
[ "$(mode /etc/pam-totp/host.key)" = "400 root:root" ] || fail "host.key is $(mode /etc/pam-totp/host.key)"
[ "$(stat -c %s /etc/pam-totp/host.key)" = 32 ] || fail "host.key is not 32 bytes"
[ "$(mode /var/lib/pam-totp)" = "700 root:root" ] || fail "state dir is $(mode /var/lib/pam-totp)"
[ "$(mode /etc/pam-totp/config.yaml)" = "644 root:root" ] || fail "config.yaml is $(mode /etc/pam-totp/config.yaml)"
key=$(md5sum </etc/pam-totp/host.key)
totpctl enroll --json alice >/dev/null || fail "enroll after install"

# The admin's edit of the conffile and the key survive a reinstall.
sed -i 's/^#window: 1$/window: 2/' /etc/pam-totp/config.yaml
dpkg -i /pkg.deb
grep -qx 'window: 2' /etc/pam-totp/config.yaml || fail "reinstall lost the edit of config.yaml"
[ "$key" = "$(md5sum </etc/pam-totp/host.key)" ] || fail "reinstall replaced the host key"

# Remove warns about a stack that still uses the module, and keeps the
# key, the configuration and the state files.
echo 'auth required pam_totp.so' >>/etc/pam.d/other
dpkg -r pam-totp 2>/tmp/remove.log || fail "remove"
grep -q '/etc/pam.d/other' /tmp/remove.log || fail "remove did not warn about /etc/pam.d/other"
sed -i '/pam_totp/d' /etc/pam.d/other
for f in /etc/pam-totp/host.key /etc/pam-totp/config.yaml /var/lib/pam-totp/alice.totp; do
	[ -e "$f" ] || fail "remove deleted $f"
done
[ ! -e /usr/sbin/totpctl ] || fail "remove left /usr/sbin/totpctl"

# Installed again, the old state opens with the old key.
dpkg -i /pkg.deb
totpctl status alice >/dev/null || fail "status after reinstall"

# Purge deletes the key, a rotation's new key, and the state.
: >/etc/pam-totp/host.key.new
dpkg -P pam-totp
for f in /etc/pam-totp /var/lib/pam-totp; do
	[ ! -e "$f" ] || fail "purge left $f"
done
echo "lifecycle: ok"

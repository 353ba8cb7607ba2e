#!/bin/sh
# image-setup.sh runs once while the test image is built, after pam-totp's
# .deb is installed: it checks what the package's scripts made, wires the
# module into sshd and sudo with the files from contrib/, and makes the test
# users. Everything here is for the test image only.
#
# The PAM stack of sshd comes in three profiles; entrypoint.sh installs the
# one named by PAM_TOTP_TEST_PROFILE when the container starts:
#   contrib        contrib/sshd/pam.d-sshd as shipped: nullok and pam_permit
#                  in place of common-auth (a key, then a code if enrolled)
#   code           its variant 2b: pam_totp alone (a key, then a code)
#   password-code  common-auth and then pam_totp (password, then code), as
#                  the end of contrib/sshd/pam.d-sshd describes
#   password-code-nullok
#                  the same with nullok, as contrib/rollout.md has sudo
#                  while users enroll: the password, then a code if enrolled
# sudo always gets variant A of contrib/sudo/pam.d-sudo.
#
# Users (password "pw-" followed by the user name, all with the image's test
# client key in ~/.ssh/authorized_keys):
#   k01..k80  group totp-kbd   AuthenticationMethods keyboard-interactive
#   p01..p30  group totp-pk    AuthenticationMethods publickey,keyboard-interactive
#   s01..s06  group totp-sudo  AuthenticationMethods publickey; may sudo
set -eu

here=$(cd "$(dirname "$0")" && pwd)
contrib=$here/contrib
profiles=$here/pam.d

die() {
	echo "image-setup: $*" >&2
	exit 1
}

# What the package's postinst must have made.
[ -f /etc/pam-totp/host.key ] || die "the package did not create /etc/pam-totp/host.key"
[ "$(stat -c %a /etc/pam-totp/host.key)" = 400 ] || die "/etc/pam-totp/host.key is not mode 0400"
[ "$(stat -c %a /var/lib/pam-totp)" = 700 ] || die "/var/lib/pam-totp is not mode 0700"

# rsyslog: a container cannot read the kernel log.
sed -i 's/^module(load="imklog")/#&/' /etc/rsyslog.conf

# sshd's own host keys, new for every image.
ssh-keygen -A

# A container may not set the audit login uid; everything else of the
# session stack stays as Debian ships it.
sed -i 's/^session\(\s\+\)required\(\s\+\)pam_loginuid.so/session\1optional\2pam_loginuid.so/' \
	/etc/pam.d/sshd

# auth_lines FILE prints the auth lines that FILE leaves active.
auth_lines() {
	grep -E '^auth[[:space:]]' "$1" || die "$1 has no active auth line"
}

# at_common_auth FILE MODE LINES: put LINES in FILE's "@include
# common-auth" line, replacing it (MODE replace) or after it (after).
at_common_auth() {
	grep -qx '@include common-auth' "$1" || die "$1 has no '@include common-auth' line"
	printf '%s\n' "$3" >"$1.lines"
	if [ "$2" = replace ]; then
		sed -i -e "/^@include common-auth\$/r $1.lines" -e '/^@include common-auth$/s/^/#/' "$1"
	else
		sed -i "/^@include common-auth\$/r $1.lines" "$1"
	fi
	rm "$1.lines"
}

# The sshd profiles, all made from Debian's /etc/pam.d/sshd.
mkdir -p "$profiles"
sshd_pam=$contrib/sshd/pam.d-sshd
grep -qx '#auth required pam_totp.so' "$sshd_pam" ||
	die "$sshd_pam has no '#auth required pam_totp.so' line (variant 2b)"
for p in contrib code password-code password-code-nullok; do
	cp /etc/pam.d/sshd "$profiles/sshd.$p"
done
at_common_auth "$profiles/sshd.contrib" replace "$(auth_lines "$sshd_pam")"
at_common_auth "$profiles/sshd.code" replace 'auth required pam_totp.so'
at_common_auth "$profiles/sshd.password-code" after 'auth required pam_totp.so'
at_common_auth "$profiles/sshd.password-code-nullok" after 'auth required pam_totp.so nullok'
at_common_auth /etc/pam.d/sudo after "$(auth_lines "$contrib/sudo/pam.d-sudo")"
cp "$profiles/sshd.contrib" /etc/pam.d/sshd

# sshd: contrib's drop-in, then test-only settings: many logins at once
# from one address, and per group of test users the authentication methods
# under test (Match blocks override the drop-in and must come last).
install -m 0644 "$contrib/sshd/10-pam-totp.conf" /etc/ssh/sshd_config.d/
cat >/etc/ssh/sshd_config.d/90-pam-totp-test.conf <<'CONF'
MaxStartups 300
MaxSessions 50
LogLevel VERBOSE
PermitRootLogin no
CONF
cat >>/etc/ssh/sshd_config <<'CONF'

# pam-totp container suite
Match Group totp-kbd
	AuthenticationMethods keyboard-interactive
Match Group totp-pk
	AuthenticationMethods publickey,keyboard-interactive
Match Group totp-sudo
	AuthenticationMethods publickey
CONF
install -d -m 0755 /run/sshd
sshd -t

# The test client's key; the suite reads the private half with docker exec.
ssh-keygen -q -t ed25519 -N '' -C pam-totp-test -f /etc/ssh/test_client_key

# Users, made in one go by newusers (useradd takes a tenth of a second per
# user here). Each user's group is that of its test group.
groupadd totp-kbd
groupadd totp-pk
groupadd totp-sudo
users=$(mktemp)
add() { # group prefix count
	for i in $(seq -w 1 "$3"); do
		echo "$2$i:*::$1::/home/$2$i:/bin/bash" >>"$users"
	done
}
add totp-kbd k 80
add totp-pk p 30
add totp-sudo s 06
newusers "$users"
cut -d: -f1,4 "$users" | while IFS=: read -r u g; do
	install -d -m 0700 -o "$u" -g "$g" "/home/$u/.ssh"
	install -m 0600 -o "$u" -g "$g" /etc/ssh/test_client_key.pub \
		"/home/$u/.ssh/authorized_keys"
done
# The passwords, hashed with SHA-512 crypt instead of Debian's default
# yescrypt, which costs about a third of a second per hash here: fifty
# logins at once would spend their time in pam_unix, not in the module
# under test.
cut -d: -f1 "$users" | sed 's/.*/&:pw-&/' | chpasswd -c SHA512
rm "$users"

# sudo for the sudo group. One password try, so that a refused code ends
# sudo at once instead of asking again.
cat >/etc/sudoers.d/pam-totp-test <<'CONF'
Defaults:%totp-sudo passwd_tries=1, lecture=never
%totp-sudo ALL=(ALL:ALL) ALL
CONF
chmod 0440 /etc/sudoers.d/pam-totp-test
visudo -c >/dev/null

#!/bin/sh
# demo-user.sh runs inside the demo container ('make demo'): it removes
# everything image-setup.sh made for the tests alone (the test users, their
# groups, the test client key, the sudo rule and the sshd settings), makes
# USER with a new random password, lets USER in with password and code,
# enrolls USER and shows the QR code, then prints the password.
#
# Usage: demo-user.sh USER
set -eu

user=${1:?usage: demo-user.sh USER}
groups="totp-kbd totp-pk totp-sudo"

die() {
	echo "demo-user: $*" >&2
	exit 1
}

# The test users' passwords and key are in the image: none of them stays.
# newusers gave each its test group as primary group, so they are picked
# by GID (the group's member field is empty).
for g in $groups; do
	entry=$(getent group "$g") || continue
	gid=$(echo "$entry" | cut -d: -f3)
	for u in $(getent passwd | awk -F: -v gid="$gid" '$4 == gid { print $1 }'); do
		# userdel warns of the missing mail spool of each.
		userdel -r "$u" 2>/dev/null || die "userdel $u failed"
	done
	groupdel "$g"
done
rm -f /etc/sudoers.d/pam-totp-test /etc/ssh/test_client_key /etc/ssh/test_client_key.pub \
	/etc/ssh/sshd_config.d/90-pam-totp-test.conf
# The Match blocks of the test users end sshd_config.
sed -i '/^# pam-totp container suite$/,$d' /etc/ssh/sshd_config

# listen_inode prints the inode of sshd's listening IPv4 socket on port 22.
listen_inode() {
	awk '$2 ~ /:0016$/ && $4 == "0A" { print $10; exit }' /proc/net/tcp
}

# wait_sshd waits until sshd answers on port 22 with its host key, so that
# what follows, and the login that 'make demo' then suggests, finds it.
wait_sshd() {
	end=$(($(date +%s) + 10))
	until ssh-keyscan -T 1 -t ed25519 127.0.0.1 2>/dev/null | grep -q ssh-ed25519; do
		[ "$(date +%s)" -lt "$end" ] || die "sshd did not answer on 127.0.0.1:22 within 10 s"
		sleep 0.1
	done
}

# reload_sshd makes sshd read its configuration again (SIGHUP: it executes
# itself anew) and waits until the new sshd listens and answers.
reload_sshd() {
	wait_sshd
	old=$(listen_inode)
	kill -HUP "$(cat /run/sshd.pid)"
	for _ in $(seq 100); do
		new=$(listen_inode)
		if [ -n "$new" ] && [ "$new" != "$old" ]; then
			wait_sshd
			return 0
		fi
		sleep 0.1
	done
	die "sshd did not listen again within 10 s of SIGHUP"
}

password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
useradd -m -s /bin/bash "$user"
echo "$user:$password" | chpasswd

# USER has no SSH key: password, then code, both through PAM.
cat >>/etc/ssh/sshd_config <<CONF
# pam-totp demo
Match User $user
	AuthenticationMethods keyboard-interactive
CONF
sshd -t
reload_sshd

totpctl enroll --no-confirm "$user"
echo
echo "Password of $user: $password"

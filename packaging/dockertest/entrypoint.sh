#!/bin/sh
# Entry point of the test image: installs the sshd PAM profile named by
# PAM_TOTP_TEST_PROFILE (see image-setup.sh; default contrib), starts a
# syslog daemon for the module's log lines (/var/log/auth.log), then runs
# sshd in the foreground, logging to stderr.
set -eu

profile=/usr/local/lib/pam-totp-test/pam.d/sshd.${PAM_TOTP_TEST_PROFILE:-contrib}
if [ ! -f "$profile" ]; then
	echo "entrypoint: no PAM profile $profile" >&2
	exit 1
fi
cp "$profile" /etc/pam.d/sshd

# auth.log exists from the start, for the suite to read before any login.
install -m 0640 -g adm /dev/null /var/log/auth.log
rm -f /run/rsyslogd.pid
rsyslogd
install -d -m 0755 /run/sshd
exec /usr/sbin/sshd -D -e

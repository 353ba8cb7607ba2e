#!/bin/sh
# enroll-users.sh: install pam-totp if asked, enroll a list of users, and
# collect what each user needs into a directory only root can read.
#
# Usage: enroll-users.sh [-p PACKAGE.deb] [-c CONFIG] [-o DIR] [-f] USERS
#
#   USERS   a file with one user name per line; blank lines and lines
#           starting with # are skipped
#   -p DEB  install this pam-totp package first (apt-get, which also
#           installs its dependencies)
#   -c FILE pass --config FILE to totpctl
#   -o DIR  where to put the hand-over files; a new directory, by default
#           /root/pam-totp-handover-YYYYMMDD-HHMMSS
#   -f      enroll users who are already enrolled again, replacing their
#           secret and backup codes (default: skip them)
#
# For each user, DIR/USER/ receives enrollment.json (from totpctl enroll
# --json: user, uri, secret, backup_codes and the code parameters) and
# qr.png, the QR code to scan. Both hold the user's secret: hand them over
# in person or over a channel you trust, then delete DIR. Users are enrolled
# without being asked for a code (--no-confirm); the first login with a
# code is their confirmation, and 'totpctl status USER' shows it.
#
# Exit status: 0 if every user was enrolled or skipped, 1 if any failed, 2
# on misuse.
set -eu

prog=enroll-users.sh

usage() {
	echo "usage: $prog [-p PACKAGE.deb] [-c CONFIG] [-o DIR] [-f] USERS"
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

deb=
out=
force=
totpctl() { command totpctl "$@"; }

while getopts p:c:o:fh opt; do
	case $opt in
	p) deb=$OPTARG ;;
	c)
		config=$OPTARG
		totpctl() { command totpctl --config "$config" "$@"; }
		;;
	o) out=$OPTARG ;;
	f) force=--force ;;
	h)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
if [ $# -ne 1 ]; then
	usage >&2
	exit 2
fi
list=$1

[ "$(id -u)" -eq 0 ] || die "must be run as root: totpctl needs the host key"
[ -r "$list" ] || die "cannot read the user list $list"

if [ -n "$deb" ]; then
	case $deb in
	/* | ./*) ;;
	*) deb=./$deb ;; # apt-get takes a path only in this form
	esac
	DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" ||
		die "installing $deb failed: nothing was enrolled"
fi
command -v totpctl >/dev/null || die "totpctl is not installed: install the pam-totp package (-p)"

# Everything made from here on is for root's eyes only.
umask 077
[ -n "$out" ] || out=/root/pam-totp-handover-$(date +%Y%m%d-%H%M%S)
mkdir -m 0700 "$out" || die "cannot create $out: name a new directory with -o"

enrolled=0 skipped=0 failed=0
while IFS= read -r user || [ -n "$user" ]; do
	# Trim blanks; skip comments and empty lines.
	user=$(printf '%s' "$user" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
	case $user in '' | '#'*) continue ;; esac

	# The name becomes a directory name: accept only what totpctl accepts,
	# so that no name can point outside $out.
	if ! printf '%s\n' "$user" | grep -Eqx '[A-Za-z0-9_@$][A-Za-z0-9._@$-]{0,63}'; then
		echo "$prog: $user: not a valid user name, skipped" >&2
		failed=$((failed + 1))
		continue
	fi

	if [ -z "$force" ] && totpctl status "$user" >/dev/null 2>&1; then
		echo "$prog: $user: already enrolled, skipped (use -f to replace)" >&2
		skipped=$((skipped + 1))
		continue
	fi

	dir=$out/$user
	mkdir -m 0700 "$dir"
	if totpctl enroll --no-confirm --json ${force:+"$force"} --qr-png "$dir/qr.png" \
		"$user" >"$dir/enrollment.json"; then
		echo "$prog: $user: enrolled" >&2
		enrolled=$((enrolled + 1))
	else
		echo "$prog: $user: enrollment failed (see the message above)" >&2
		rm -rf "$dir"
		failed=$((failed + 1))
	fi
done <"$list"

echo "$prog: $enrolled enrolled, $skipped skipped, $failed failed; hand-over files in $out" >&2
[ "$failed" -eq 0 ]

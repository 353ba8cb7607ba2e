#!/bin/sh
# base-image.sh makes the local base image of the container suite where no
# registry can be reached: it bootstraps a minimal Debian bookworm with
# debootstrap, from the mirror this machine's apt already uses, and imports
# it into Docker. An image that already has the tag is reused.
#
# Usage: base-image.sh [TAG]     (default pam-totp-base:bookworm)
# Environment: PAM_TOTP_BASE_MIRROR overrides the mirror read from apt.
set -eu

tag=${1:-pam-totp-base:bookworm}
suite=bookworm
# Everything the suite needs at run time; the test image installs nothing
# when these are present. rsyslog gives the module's syslog lines a file.
packages=openssh-server,openssh-client,sudo,libpam-modules,libpam-runtime,\
rsyslog,procps,mount

log() { printf 'base-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# reuse exits if the image is there already.
reuse() {
	if docker image inspect "$tag" >/dev/null 2>&1; then
		log "reusing $tag, kept on purpose as a cache (remove it with 'docker rmi $tag' to build it again)"
		exit 0
	fi
}

docker info >/dev/null 2>&1 ||
	die "no Docker engine answers ('docker info' failed): start Docker first"
reuse

command -v debootstrap >/dev/null ||
	die "debootstrap is missing: install it with 'apt-get install debootstrap'"
[ "$(id -u)" = 0 ] || die "debootstrap needs root: run this as root"

# make -j can run this twice at once, for the suite and for the package
# tests: the second waits for the first, then reuses its image.
if command -v flock >/dev/null; then
	exec 9>>/var/tmp/pam-totp-base.lock
	flock 9
	reuse
fi

# mirror prints the first Debian archive URI that apt is configured with,
# from deb822 .sources files first, then from one-line sources.list files.
mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '
			/^[ \t]*$/ { uri = ""; debian = 0; next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" {
				for (i = 2; i <= NF; i++)
					if ($i !~ /-security$/) debian = 1
			}
			uri != "" && debian && uri !~ /security/ { print uri; exit }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" && $0 !~ /security/ {
			for (i = 2; i <= NF; i++)
				if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; exit }
		}' "$f"
	done
}

url=${PAM_TOTP_BASE_MIRROR:-$(mirror | head -n 1)}
[ -n "$url" ] || die "no Debian mirror found in /etc/apt/sources.list*: set PAM_TOTP_BASE_MIRROR"

root=$(mktemp -d /var/tmp/pam-totp-base.XXXXXX)
trap 'rm -rf "$root"' EXIT INT TERM

start=$(date +%s)
log "bootstrapping Debian $suite from $url into $root"
if ! debootstrap --variant=minbase --include="$packages" \
	"$suite" "$root" "$url" >"$root.log" 2>&1; then
	tail -n 30 "$root.log" >&2
	rm -f "$root.log"
	die "debootstrap failed (whole log above was cut to its end)"
fi
rm -f "$root.log"

# Keep the image small and free of this machine's traces.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
	"$root"/tmp/* "$root"/var/tmp/* "$root"/var/log/bootstrap.log
# Host keys are made per image by the test Dockerfile, never shared.
rm -f "$root"/etc/ssh/ssh_host_*

tar -C "$root" --numeric-owner -c . |
	docker import --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
log "imported $tag in $(($(date +%s) - start)) s; it is kept as a cache for the next runs"

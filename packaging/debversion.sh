#!/bin/sh
# Turn the build's VERSION (git describe --tags --always --dirty, or "dev")
# into a valid Debian version, "-1" revision included:
#   v1.2.3                 -> 1.2.3-1
#   v1.2.3-4-gabc1234      -> 1.2.3+git4.abc1234-1       (after the tag)
#   abc1234, no tag yet    -> 0.0~git20261203.abc1234-1  (commit date)
#   anything else, "dev"   -> 0.0~dev-1
# A "-dirty" suffix becomes ".dirty" in the upstream part.
set -eu

v=${1:?usage: debversion.sh VERSION}
v=${v#v}
dirty=
case $v in
*-dirty)
	v=${v%-dirty}
	dirty=.dirty
	;;
esac

if printf '%s\n' "$v" | grep -Eq '^[0-9]+(\.[0-9]+)*$'; then
	up=$v
elif printf '%s\n' "$v" | grep -Eq '^[0-9]+(\.[0-9]+)*-[0-9]+-g[0-9a-f]+$'; then
	tag=${v%%-*}
	rest=${v#*-}
	up="$tag+git${rest%%-*}.${rest#*-g}"
elif printf '%s\n' "$v" | grep -Eq '^[0-9a-f]{4,40}$'; then
	date=$(git log -1 --format=%cd --date=format:%Y%m%d "$v" 2>/dev/null || true)
	up="0.0~git$date.$v"
else
	up=0.0~dev
fi

out="$up$dirty-1"
if ! printf '%s\n' "$out" | grep -Eq '^[0-9][A-Za-z0-9.+~]*-1$'; then
	echo "debversion.sh: cannot make a Debian version of '$1'" >&2
	exit 1
fi
printf '%s\n' "$out"

#!/bin/sh
# mkdeb.sh BUILD STAGE VERSION: turn the tree that packaging.mk staged in
# STAGE (BUILD/deb/debian/pam-totp) into BUILD/pam-totp_<version>_<arch>.deb. The environment gives
# PREFIX, PAMDIR and PKG_GODIR, the paths the tree was staged with.
set -eu

build=${1:?usage: mkdeb.sh BUILD STAGE VERSION}
stage=${2:?usage: mkdeb.sh BUILD STAGE VERSION}
version=$(sh packaging/debversion.sh "${3:?usage: mkdeb.sh BUILD STAGE VERSION}")
arch=$(dpkg --print-architecture)
here=$(pwd)
case $build in /*) ;; *) build=$here/$build ;; esac
case $stage in /*) ;; *) stage=$here/$stage ;; esac

# File times and the changelog date come from the last commit, so that two
# builds of one commit give the same package.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

objects="$stage$PAMDIR/pam_totp.so $stage$PKG_GODIR/pam_totp_go.so"
program="$stage$PREFIX/sbin/totpctl"

# Strip as dh_strip does: debugging symbols out, dynamic symbols kept.
# shellcheck disable=SC2086
strip --remove-section=.comment --remove-section=.note --strip-unneeded $objects
strip --remove-section=.comment --remove-section=.note "$program"

doc="$stage$PREFIX/share/doc/pam-totp"
install -m 0644 packaging/debian/copyright "$doc/copyright"
sed -e "s/@VERSION@/$version/" -e "s/@COMMIT@/$commit/" \
	-e "s/@DATE@/$(date -R -u -d "@$SOURCE_DATE_EPOCH")/" \
	packaging/debian/changelog.in | gzip -9n >"$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"
install -d -m 0755 "$stage/usr/share/lintian/overrides"
install -m 0644 packaging/debian/lintian-overrides \
	"$stage/usr/share/lintian/overrides/pam-totp"

# Depends from the libraries the binaries link, as dpkg-shlibdeps finds
# them in the installed packages' shlibs and symbols files. It reads
# debian/control and expects the tree in debian/<package>, where
# packaging.mk staged it. A statically linked program has nothing to add.
# (It finds the package's root by its DEBIAN directory.)
top=$(dirname "$(dirname "$stage")")
mkdir -p "$stage/DEBIAN"
printf 'Source: pam-totp\n\nPackage: pam-totp\nArchitecture: any\n' \
	>"$top/debian/control"
set --
for f in $objects $program; do
	if readelf -d "$f" | grep -q NEEDED; then
		set -- "$@" "-e${f#"$top"/}"
	fi
done
depends=$(cd "$top" && dpkg-shlibdeps -O "$@" | sed -n 's/^shlibs:Depends=//p')
if [ -z "$depends" ]; then
	echo "mkdeb.sh: dpkg-shlibdeps found no dependencies" >&2
	exit 1
fi

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$depends/" packaging/debian/control.in >"$stage/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$stage/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm \
	packaging/debian/postrm "$stage/DEBIAN/"

# md5sums of every file but the conffiles, which dpkg tracks itself.
sed 's|^/||' packaging/debian/conffiles >"$build/deb/conffiles.rel"
(
	cd "$stage"
	find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort |
		grep -vxF -f "$build/deb/conffiles.rel" | xargs md5sum
) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

out="$build/pam-totp_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out"

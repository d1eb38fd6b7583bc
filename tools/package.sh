#!/usr/bin/env bash
# tools/package.sh [BUILD_DIR [OUT_DIR]]: builds nlb_VERSION_ARCH.deb from the optimised build
# directory (default build/, the one tools/test.sh builds; no build of its own). It points that
# build at the Debian layout (prefix /usr, /etc, the unit in /lib/systemd/system), which
# recompiles the two files that name an installed path, then stages `cmake --install --strip`
# and wraps it with dpkg-deb. Packaging files: tools/debian/. Prints the .deb's path.
# docs/packaging.md says what the package holds and why.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-.}
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "package: $build is not a configured build directory (run tools/test.sh, or cmake)" >&2
  exit 1
fi
umask 022

cmake -S . -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc \
  -DCMAKE_INSTALL_LOCALSTATEDIR=/var -DNLB_SYSTEMD_UNIT_DIR=/lib/systemd/system >/dev/null
cmake --build "$build" -j"$(nproc)" --target nlbd nlbctl nlb_man_pages >/dev/null

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
work=$(mktemp -d /tmp/nlb-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

DESTDIR=$root cmake --install "$build" --strip >/dev/null
doc=$root/usr/share/doc/nlb
install -m 0644 tools/debian/copyright "$doc/copyright"
gzip -9n <tools/debian/changelog >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

mkdir -p "$root/DEBIAN" "$work/debian"
# dpkg-shlibdeps reads the package list from debian/control in its working directory.
printf 'Source: nlb\n\nPackage: nlb\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e root/usr/sbin/nlbd -e root/usr/bin/nlbctl 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" \
  -e "s|@SHLIBS@|$shlibs|" tools/debian/control.in >"$root/DEBIAN/control"
echo /etc/nlb/nlb.yaml >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "tools/debian/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
  sort -z | xargs -0 md5sum >DEBIAN/md5sums)

mkdir -p "$out"
deb=$out/nlb_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"

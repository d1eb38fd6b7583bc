#!/usr/bin/env bash
# tests/package/package_test.sh [BUILD_DIR]: the Debian package as CI checks it, run by
# tools/test.sh right after the optimised build (about a minute). Builds the .deb from BUILD_DIR
# (tools/package.sh), then: lintian (no error; every warning must be one docs/packaging.md
# justifies); `apt-get install ./nlb_*.deb`; every file the unit, the man pages and --help name is
# where they say; the service is not enabled; the sample conffile is refused; systemd-analyze
# verify and security (offline; exposure at most 3.0); `man -l` renders each page without a
# warning; the installed nlbd forms a cluster (tests/integration/installed_agent_test.sh); then
# `dpkg --purge` leaves nothing of the package behind. Needs root; refuses to touch an nlb that
# was installed before it ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: installing a package needs root"; exit 77; }
if dpkg-query -W -f='${Status}' nlb 2>/dev/null | grep -q installed; then
  fail "an nlb package is installed already; this test installs and purges its own"
fi

out=$(mktemp -d /tmp/nlb-package-test.XXXXXX)
installed=0
finish() {
  local rc=$?
  [ "$installed" -eq 1 ] && dpkg --purge nlb >/dev/null 2>&1
  rm -rf "$out"
  exit $rc
}
trap finish EXIT

deb=$(tools/package.sh "$build" "$out")
note "built $(basename "$deb") ($(du -k "$deb" | cut -f1) kB)"

# lintian: errors fail; a warning fails unless docs/packaging.md names its tag.
tags=$(lintian --info "$deb" 2>/dev/null | grep -E '^[EWI]: ' || true)
[ -z "$tags" ] || echo "$tags" | sed 's/^/   lintian /'
if grep -q '^E: ' <<<"$tags"; then fail "lintian reports errors"; fi
while read -r tag; do
  [ -n "$tag" ] || continue
  grep -qF "\`$tag\`" docs/packaging.md || fail "lintian warning $tag is not justified in docs/packaging.md"
done < <(sed -n 's/^W: nlb[^:]*: \([a-z0-9-]*\).*/\1/p' <<<"$tags")
note "lintian: no errors, every warning justified"

apt-get -o DPkg::Lock::Timeout=600 install -y -q "$deb" >"$out/apt.log" 2>&1 ||
  { cat "$out/apt.log"; fail "apt-get install of the package failed"; }
installed=1
mapfile -t files < <(dpkg-query -L nlb | while read -r f; do [ -d "$f" ] || echo "$f"; done)
note "installed: ${#files[@]} files"

unit=/lib/systemd/system/nlbd.service
for f in /usr/sbin/nlbd /usr/bin/nlbctl "$unit" /etc/nlb/nlb.yaml \
    /usr/share/man/man8/nlbd.8.gz /usr/share/man/man8/nlbctl.8.gz \
    /usr/share/man/man5/nlb.yaml.5.gz /usr/share/bash-completion/completions/nlbctl \
    /usr/share/doc/nlb/copyright /usr/share/doc/nlb/changelog.gz; do
  [ -e "$f" ] || fail "$f is missing"
done
dpkg-query -W -f='${Conffiles}' nlb | grep -q '^ /etc/nlb/nlb.yaml ' ||
  fail "/etc/nlb/nlb.yaml is not a conffile"
# Every program the unit runs, every document it names.
while read -r exe; do
  [ -x "$exe" ] || fail "the unit runs $exe, which is not installed"
done < <(sed -n 's/^Exec[A-Za-z]*=-\{0,1\}\([^ ]*\).*/\1/p' "$unit")
while read -r doc; do
  [ -e "$doc" ] || fail "the unit's Documentation= names $doc, which is not installed"
done < <(grep -o 'file://[^ ]*' "$unit" | sed 's|^file://||')
# Every installed path the man pages and nlbd --help name (a directory: ends with /).
pages=(/usr/share/man/man8/nlbd.8.gz /usr/share/man/man8/nlbctl.8.gz /usr/share/man/man5/nlb.yaml.5.gz)
named=$( { for p in "${pages[@]}"; do MANWIDTH=200 man -l "$p" 2>/dev/null; done
           /usr/sbin/nlbd --help; } | grep -o '/usr/share/doc/nlb/[A-Za-z0-9._/-]*' | sort -u)
for path in $named /etc/nlb/nlb.yaml /usr/share/doc/nlb/README.md; do
  path=${path%.}
  [ -e "$path" ] || fail "the man pages or --help name $path, which is not installed"
done
note "every file the unit, man pages and --help name is installed ($(wc -w <<<"$named") doc paths)"

[ ! -e /etc/systemd/system/multi-user.target.wants/nlbd.service ] ||
  fail "installation enabled the service"
rc=0; said=$(/usr/sbin/nlbd --check-config /etc/nlb/nlb.yaml 2>&1) || rc=$?
[ "$rc" -eq 2 ] && grep -q "host.id: required field is missing" <<<"$said" ||
  fail "the sample conffile is not refused as it should be (exit $rc): $said"
note "the sample is refused until edited: $(head -n 1 <<<"$said")"

# systemd is not PID 1 here nor on CI: the offline modes.
systemd-analyze verify "$unit" >"$out/verify.log" 2>&1 || { cat "$out/verify.log"; fail "systemd-analyze verify"; }
[ ! -s "$out/verify.log" ] || { cat "$out/verify.log"; fail "systemd-analyze verify printed warnings"; }
systemd-analyze security --offline=true --threshold=30 "$unit" >"$out/security.log" 2>&1 ||
  { tail -n 5 "$out/security.log"; fail "systemd-analyze security: exposure above 3.0"; }
note "systemd-analyze verify: clean; $(grep -o 'Overall exposure level.*' "$out/security.log")"

for p in "${pages[@]}"; do
  warnings=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "man -l $p: $warnings"
  [ "$(MANWIDTH=80 man -l "$p" 2>/dev/null | wc -l)" -gt 20 ] || fail "man -l $p rendered almost nothing"
done
note "man -l renders ${#pages[@]} pages without warnings"

NLB_BUILD_DIR=$(cd "$build" && pwd) bash tests/integration/installed_agent_test.sh ||
  fail "the installed nlbd did not form a cluster with a build-tree nlbd"

dpkg --purge nlb >"$out/purge.log" 2>&1 || { cat "$out/purge.log"; fail "dpkg --purge"; }
installed=0
for f in "${files[@]}" /etc/nlb /var/lib/nlb /usr/share/doc/nlb; do
  [ ! -e "$f" ] || fail "dpkg --purge left $f"
done
dpkg-query -W nlb >/dev/null 2>&1 && fail "dpkg still knows the package after --purge"
note "dpkg --purge: nothing left"
echo "PASS"

#!/usr/bin/env bash
# Installs everything nlb needs to build, test and run its lab, from Debian's packages only.
# Idempotent and quiet: prints nothing unless something fails (then the apt log is shown).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libpcap-dev libboost-dev libyaml-cpp-dev libssl-dev libnftables-dev nlohmann-json3-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  iproute2 nftables ethtool curl nginx-light wrk procps psmisc iputils-ping
  bridge-utils tcpdump python3 util-linux
  libcap-dev scdoc lintian man-db systemd dpkg-dev
  libbpf-dev clang llvm bpftool
  prometheus chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}) and not root: run as root" >&2
  exit 1
fi

log=$(mktemp /tmp/nlb-install-deps.XXXXXX)
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
    >"$log" 2>&1; then
  echo "install-deps: apt-get failed; its output:" >&2
  cat "$log" >&2
  exit 1
fi
rm -f "$log"

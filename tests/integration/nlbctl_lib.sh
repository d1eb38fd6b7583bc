# Shared by the nlbctl_*_test.sh scripts: the real nlbctl binary, run where an operator would run
# it: inside a host's namespace against its local socket (ctl), or from the client namespace over
# TLS with the cluster key (rctl). Source after lib.sh.
NLBCTL=$BUILD/tools/nlbctl
[ -x "$NLBCTL" ] || fail "no nlbctl at $NLBCTL"
OUT="" ERR="" RC=0

# ctl I ARGS...: nlbctl inside host I's namespace with its configuration; sets OUT, ERR, RC.
ctl() {
  local i=$1; shift
  RC=0
  OUT=$(in_host "$i" "$NLBCTL" --config "$STATE/h$i.yaml" "$@" 2>"$STATE/ctl.err") || RC=$?
  ERR=$(cat "$STATE/ctl.err")
}

# rctl J ARGS...: nlbctl in client J's namespace with the cluster key; sets OUT, ERR, RC.
rctl() {
  local j=$1; shift
  RC=0
  OUT=$(in_client "$j" "$NLBCTL" --key "$STATE/cluster.key" "$@" 2>"$STATE/ctl.err") || RC=$?
  ERR=$(cat "$STATE/ctl.err")
}

# expect_rc WANT WHAT: the last ctl/rctl exited WANT.
expect_rc() {
  [ "$RC" -eq "$1" ] || fail "$2: nlbctl exit $RC, want $1; stdout: $OUT; stderr: $ERR"
}

# expect_err TEXT WHAT: the last ctl/rctl's stderr contains TEXT.
expect_err() {
  case "$ERR" in *"$1"*) ;; *) fail "$2: stderr lacks '$1': $ERR" ;; esac
}

# out_json EXPR: EXPR over the last ctl/rctl's stdout parsed as JSON (`r`); fails on bad JSON.
out_json() {
  printf '%s' "$OUT" | python3 -c "import json,sys; r=json.load(sys.stdin); print($1)" ||
    fail "not JSON, or '$1' does not hold: $OUT"
}

# check_json EXPR WHAT: EXPR over the last stdout is true.
check_json() {
  [ "$(out_json "bool($1)")" = "True" ] || fail "$2: not ($1) in $OUT"
}

# report_of I EXPR: EXPR over host I's `nlbctl --json report`.
report_of() {
  ctl "$1" --json report
  expect_rc 0 "report of host $1"
  out_json "$2"
}

# curl_vip [-p PORT] [-s SOURCE]: one GET through the VIP from client 1; prints the page.
curl_vip() {
  local port=80 src=198.18.2.1
  while [ $# -gt 0 ]; do
    case "$1" in -p) port=$2; shift 2 ;; -s) src=$2; shift 2 ;; *) shift ;; esac
  done
  in_client 1 curl -sS -m 2 --interface "$src" "http://198.18.0.100:$port/"
}

# requests N: N GETs through the VIP from 8 client addresses; prints one line per request, the
# page ("host I") or FAILED.
requests() {
  in_client 1 bash -c '
    for n in $(seq 1 "$1"); do
      src=198.18.$((2 + n % 8)).1
      curl -sS -m 2 --interface "$src" http://198.18.0.100/ 2>/dev/null || echo FAILED
    done' _ "$1"
}

# all_fail N: N requests through the VIP all fail (curl bounded by -m 2 each).
all_fail() { [ "$(requests "$1" | grep -vc FAILED)" -eq 0 ]; }
# curl_ok: one request succeeds.
curl_ok() { curl_vip >/dev/null; }

# Shared by conntrack_moves_test.sh and tests/bench/conntrack_resets_bench.sh, on top of
# datapath_lib.sh: slow downloads (the lab's /slow: 2 MB that nginx sends at 200 kB/s, about 10 s
# of traffic on the wire) started in the background from client 1, and their results judged
# afterwards. (curl --limit-rate would not do: it slows only curl's reading, and the 2 MB would
# cross the network within a second and wait in the client's socket, so a later move would meet
# an idle connection.) Every download is bounded by
# --max-time; a download that makes no progress for 8 s is a stall (curl exit 28).
source "$(dirname "${BASH_SOURCE[0]}")/datapath_lib.sh"

DOWNLOADS=${DOWNLOADS:-24}
SIZE=2000000

# downloads NAME [URL]: starts $DOWNLOADS slow downloads; each writes $STATE/NAME/K.result
# ("curl-exit bytes client-port") and K.headers.
downloads() {
  local dir=$STATE/$1 url=${2:-http://$VIP/slow} k
  mkdir -p "$dir"
  for k in $(seq 1 "$DOWNLOADS"); do
    ( rc=0
      out=$(in_client 1 curl -s -o /dev/null -D "$dir/$k.headers" -w '%{size_download} %{local_port}' \
              --max-time 60 --speed-limit 1000 --speed-time 8 "$url") || rc=$?
      echo "$rc ${out:-0}" >"$dir/$k.result" ) &
  done
}

# host_of FILE: the host that answered (X-Nlb-Host header).
host_of() { tr -d '\r' <"$1" 2>/dev/null | awk -F': ' 'tolower($1)=="x-nlb-host" {print $2}'; }

# finished NAME: every download of NAME has a result.
finished() { [ "$(ls "$STATE/$1"/*.result 2>/dev/null | wc -l)" -eq "$DOWNLOADS" ]; }

# broken NAME: prints "BROKEN SPREAD": how many downloads did not end whole (curl exit != 0 or
# short), and which hosts served them all (h1:8 h2:8 ...).
broken() {
  local dir=$STATE/$1 k rc size host bad=0 spread=""
  declare -A per_host=()
  for k in $(seq 1 "$DOWNLOADS"); do
    read -r rc size _ <"$dir/$k.result"
    host=$(host_of "$dir/$k.headers")
    per_host[${host:-none}]=$(( ${per_host[${host:-none}]:-0} + 1 ))
    if [ "$rc" != 0 ] || [ "$size" != "$SIZE" ]; then
      bad=$((bad + 1))
      echo "   $1: download $k from host '${host}': curl exit $rc after $size bytes" >&2
    fi
  done
  for host in $(printf '%s\n' "${!per_host[@]}" | sort); do spread+=" h$host:${per_host[$host]}"; done
  echo "$bad$spread"
}

# judge NAME: every download of NAME ended whole (fails the test otherwise).
judge() {
  local res
  res=$(broken "$1")
  [ "${res%% *}" = 0 ] || fail "$1: ${res%% *} of $DOWNLOADS downloads broken (served by ${res#* })"
  note "$1: $DOWNLOADS of $DOWNLOADS downloads whole (served by ${res#* })"
}

# alive I...: every listed host's nlbd still runs.
alive() { local i; for i in "$@"; do kill -0 "$(cat "$STATE/pids/nlbd-h$i")" || return 1; done; }

# quick N [URL]: N short requests; prints the answering host per request, FAILED for a failure.
quick() {
  local n url=${2:-http://$VIP/} host
  for n in $(seq 1 "$1"); do
    host=$(in_client 1 curl -s -o /dev/null -D - --max-time 5 "$url" |
      tr -d '\r' | awk -F': ' 'tolower($1)=="x-nlb-host" {print $2}') || true
    echo "${host:-FAILED}"
  done
}

# Shared by the metrics and status page tests: hosts whose HTTP listener is on their dedicated
# address (198.18.1.I:9180), so that a client namespace can scrape them. Source after lib.sh.

METRICS_PORT=9180

# metrics_host_config I [nlb-lab config options...]: host I's config with host.http on its address.
metrics_host_config() {
  local i=$1; shift
  printf '  http:\n    listen: 198.18.1.%s:%s\n' "$i" "$METRICS_PORT" >"$STATE/http-h$i.yaml"
  host_config "$i" --host-rules "$STATE/http-h$i.yaml" "$@"
}

# scrape I PATH [curl options...]: GET http://198.18.1.I:9180/PATH from client 1.
scrape() {
  local i=$1 path=$2; shift 2
  in_client 1 curl -sS --max-time 5 "$@" "http://198.18.1.$i:$METRICS_PORT$path"
}

# http_status I METHOD PATH: the status code host I's listener answers.
http_status() {
  in_client 1 curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X "$2" \
    "http://198.18.1.$1:$METRICS_PORT$3"
}

# The listener is read-only: every method but GET and HEAD is refused on every path.
check_read_only() {
  local i=$1 path method code
  for path in / /status.json /metrics; do
    for method in POST PUT DELETE PATCH OPTIONS; do
      code=$(http_status "$i" "$method" "$path")
      [ "$code" = 405 ] || fail "$method $path on host $i answered $code, want 405"
    done
    code=$(in_client 1 curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
           --data 'stop' "http://198.18.1.$i:$METRICS_PORT$path")
    [ "$code" = 405 ] || fail "POST with a body to $path on host $i answered $code, want 405"
    code=$(in_client 1 curl -s -o /dev/null -w '%{http_code}' --max-time 5 -I \
           "http://198.18.1.$i:$METRICS_PORT$path")
    [ "$code" = 200 ] || fail "HEAD $path on host $i answered $code, want 200"
  done
  code=$(http_status "$i" GET /admin)
  [ "$code" = 404 ] || fail "GET /admin on host $i answered $code, want 404"
  scrape "$i" /metrics | grep -q '^nlb_errors_total{error="http_methods_refused"} 18$' ||
    fail "host $i did not count its 18 refused methods"
}

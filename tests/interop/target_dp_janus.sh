#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode's dataplane against Janus EchoTest (Debian's janus), without
# control's signalling: Janus runs in the external port's network
# namespace (its candidate is the veth's kernel end, 198.19.255.254),
# janus_echotest_sig.py signals each session over Janus's HTTP API and
# target_dp fills the TARGET slots from the answers; swarmgen-dp's
# sessions (DTLS server: Janus answers setup:active) come up, their
# DataChannel messages and SRTP audio come back. Root (a veth pair);
# skipped without janus or python3; about fifteen seconds.
#   target_dp_janus.sh TARGET_DP SWARMGEN_DP TOOLS_EXTERNAL_PORT HELPER
set -uo pipefail
bin=$1
dp=$2
extport=$3
helper=$4
name=interop_target_dp_janus
[ "$(id -u)" -eq 0 ] || { echo "$name: skipped: needs root (a veth pair)"; exit 77; }
command -v janus >/dev/null || { echo "$name: skipped: no janus (apt-get install janus)"; exit 77; }
command -v python3 >/dev/null || { echo "$name: skipped: no python3"; exit 77; }
lib=$(dirname "$(readlink -f "$(command -v janus)")")/../lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)/janus
[ -d "$lib/plugins" ] || lib=/usr/lib/x86_64-linux-gnu/janus
[ -e "$lib/plugins/libjanus_echotest.so" ] && [ -e "$lib/transports/libjanus_http.so" ] ||
  { echo "$name: skipped: janus without its EchoTest plugin or HTTP transport"; exit 77; }
ns=sgtgj$$
dir=$(mktemp -d /tmp/sg-tgt-janus.XXXXXX)
janus_pid=
cleanup() {
  [ -n "$janus_pid" ] && kill "$janus_pid" 2>/dev/null && wait "$janus_pid" 2>/dev/null
  "$extport" down --netns "$ns" >/dev/null 2>&1
  ip netns del "$ns" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
"$extport" up --netns "$ns" >/dev/null || { echo "$name: tools/external-port up failed"; exit 1; }
# only the EchoTest plugin and the HTTP transport
disable_plugins=$(cd "$lib/plugins" && ls lib*.so | grep -v '^libjanus_echotest.so$' | paste -sd,)
disable_transports=$(cd "$lib/transports" && ls lib*.so | grep -v '^libjanus_http.so$' | paste -sd,)
cat >"$dir/janus.jcfg" <<CFG
general: {
    configs_folder = "$dir"
    plugins_folder = "$lib/plugins"
    transports_folder = "$lib/transports"
    events_folder = "$lib/events"
    loggers_folder = "$lib/loggers"
    debug_level = 4
}
media: {
    rtp_port_range = "20000-20100"
}
plugins: {
    disable = "$disable_plugins"
}
transports: {
    disable = "$disable_transports"
}
CFG
cat >"$dir/janus.transport.http.jcfg" <<CFG
general: {
    json = "compact"
    base_path = "/janus"
    http = true
    port = 8088
    https = false
}
admin: {
    admin_http = false
}
CFG
printf 'general: {\n}\n' >"$dir/janus.plugin.echotest.jcfg"
ip netns exec "$ns" janus -F "$dir" -C "$dir/janus.jcfg" -L "$dir/janus.log" >/dev/null 2>&1 &
janus_pid=$!
for _ in $(seq 100); do
  ip netns exec "$ns" python3 -c 'import urllib.request,sys; urllib.request.urlopen("http://127.0.0.1:8088/janus/info", timeout=1)' \
    >/dev/null 2>&1 && break
  sleep 0.1
done
ip netns exec "$ns" timeout -k 5 90 "$bin" "$dp" janus http://127.0.0.1:8088/janus "$helper"
rc=$?
if [ "$rc" -eq 0 ]; then
  echo "$name: passed"
else
  echo "$name: FAIL (exit $rc); Janus's log:"
  tail -30 "$dir/janus.log"
fi
exit "$rc"

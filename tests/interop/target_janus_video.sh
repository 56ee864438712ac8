#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode with video against Janus EchoTest (Debian's janus 1.1.2
# started by tools/janus-lab in the external port's namespace): swarmgen
# run --target janus:... --media video:bitrate=300k,fps=15 with 20 agents,
# each offering an Opus line, a VP8 line and the DataChannel, bundled.
# Checked: all 20 sessions up with video (Janus's answer kept VP8), every
# DataChannel message echoed, audio and video SRTP echoed (back >= 95 % of
# sent, lost counted by sequence), 0 SRTP authentication failures, and
# Janus's own admin API (handle_info, read while the sessions are up) shows
# video packets and bytes received on each handle's video medium in the
# range of what we sent (between 85 % and 100 %: its last reading is up
# to a second before our last packet). --media video with janus-videoroom
# is refused (exit 2, one line naming --media). SWARMGEN_KEEP=1 keeps the
# run's files (printed folder) for a look.
#   target_janus_video.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT JANUS_LAB_SCRIPT [AGENTS]
# Exit 77 (skipped) without root, or without janus unless
# SWARMGEN_REQUIRE_JANUS is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
lab=$4
n=${5:-20}
name=target_janus_video
. "$(dirname "$0")/target_lib.sh"
need_janus_lab

ns=sgtv$$
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
jdir=$dir/janus
rpid=
apid=
cleanup() {
  [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
  [ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
  lab_down
  [ -n "${SWARMGEN_KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

# janus-videoroom sessions send audio only: --media video is refused, one line naming the flag, exit 2
msg=$("$sg" run --agents 4 --topology ring --cores 0 --media video \
  --target "janus-videoroom:http://127.0.0.1:1/janus,rooms=1,publishers=1" 2>&1 >/dev/null)
rc=$?
if [ "$rc" = 2 ] && [ "$(echo "$msg" | wc -l)" = 1 ] && [[ "$msg" == "swarmgen: --media: "* ]]; then
  ok "--media video with janus-videoroom refused: $msg"
else
  bad "--media video with janus-videoroom: exit $rc, '$msg'"
fi

lab_up
secret=$(cat "$jdir/admin_secret")

t0=$(date +%s)
ip netns exec "$ns" "$sg" run --dp "$dp" --agents "$n" --topology ring --rate 100 --duration 8s --cores 0 \
  --target "janus:$url" --target-agents "$n" --target-rate 2 --size 256 --media video:bitrate=300k,fps=15 \
  --target-timeout 10s --report "$dir/r.json" --clients-csv "$dir/c.csv" > "$dir/run.log" 2>&1 &
rpid=$!
ip netns exec "$ns" python3 "$(dirname "$0")/janus_admin.py" "$secret" 40 "$rpid" > "$dir/admin.json" 2>/dev/null &
apid=$!
for _ in $(seq 600); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done # 60 s at most
kill -0 "$rpid" 2>/dev/null && { bad "the run did not end within 60 s"; kill "$rpid"; }
wait "$rpid"
rc=$?
run_pid=$rpid
rpid=
wait "$apid"
apid=
t1=$(date +%s)
if [ "$rc" -eq 0 ]; then ok "the run ended (exit 0, $((t1 - t0)) s)"; else bad "the run: exit $rc"; tail -30 "$dir/run.log" | sed 's/^/  run: /'; fi
got=$(json "$dir/r.json" "(r['target']['sessions_up'], r['target']['video_stats']['sessions_with_video'], r['target']['video_stats']['sessions_video_rejected'])")
if [ "$got" = "($n, $n, 0)" ]; then ok "$n sessions up, each with video (Janus's answer kept VP8)"; else bad "(sessions up, with video, video refused) $got, want ($n, $n, 0)"; fi
sent=$(json "$dir/r.json" "r['target']['messages']['sent']")
back=$(json "$dir/r.json" "r['target']['messages']['back']")
if [ -n "$sent" ] && [ "$sent" -ge "$n" ] && [ "$sent" = "$back" ]; then ok "DataChannel: $sent messages sent, $back echoed"; else bad "DataChannel: sent '$sent', back '$back'"; fi
for kind in audio video; do
  got=$(json "$dir/r.json" "(r['target']['${kind}_stats']['srtp_auth_failures'], r['target']['${kind}_stats']['rtp_sent'] > 0, r['target']['${kind}_stats']['rtp_back'] >= 0.95 * r['target']['${kind}_stats']['rtp_sent'], r['target']['${kind}_stats']['rtp_back'] <= r['target']['${kind}_stats']['rtp_sent'])")
  if [ "$got" = "(0, True, True, True)" ]; then
    ok "$kind: $(json "$dir/r.json" "'%d SRTP packets sent, %d echoed, %d lost by sequence, 0 auth failures' % (r['target']['${kind}_stats']['rtp_sent'], r['target']['${kind}_stats']['rtp_back'], r['target']['${kind}_stats']['rtp_lost'])")"
  else
    bad "$kind (auth failures, sent, >= 95 % back, back <= sent): $got: $(json "$dir/r.json" "r['target']['${kind}_stats']")"
  fi
done
echo "$name: video feedback from Janus: $(json "$dir/r.json" "'PLI %d, FIR %d, NACK %d; %d key frames sent' % (r['target']['video_stats']['rtcp_pli'], r['target']['video_stats']['rtcp_fir'], r['target']['video_stats']['rtcp_nack'], r['target']['video_stats']['keyframes_sent'])")"
# Janus's own counters of what it received on the video medium (handle_info
# webrtc.media[mid].stats.in of the line whose type is video), summed over
# the handles, against what the report says we sent
check=$(python3 - "$dir/admin.json" "$dir/r.json" "$n" <<'EOF'
import json, sys
adm = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))["target"]["video_stats"]
n = int(sys.argv[3])
pk = by = handles = 0
for k, info in adm.items():
    for m in info.get("webrtc", {}).get("media", {}).values():
        if m.get("type") == "video":
            st = m.get("stats", {}).get("in", {})
            p, b = st.get("packets", 0), st.get("bytes", 0)
            if p:
                handles += 1
            pk += p
            by += b
okp = 0.85 * r["rtp_sent"] <= pk <= r["rtp_sent"]
# Janus counts the RTP packets' bytes after SRTP (header included), as we do
okb = 0.85 * r["bytes_sent"] <= by <= r["bytes_sent"]
print(handles == n and okp and okb, handles, pk, by, r["rtp_sent"], r["bytes_sent"])
EOF
)
set -- $check ""
if [ "$1" = True ]; then
  ok "Janus's admin API: video received on $2 handles: $3 packets, $4 bytes (we sent $5 packets, $6 bytes)"
else
  bad "Janus's admin API (ok handles packets bytes; our packets bytes): $check"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(next(iter(d.values()), {}).get('webrtc', {}).get('media'))[:1500])" "$dir/admin.json"
fi
rows=$(python3 -c "
import csv, sys
print(sum(1 for r in csv.DictReader(open(sys.argv[1])) if int(r['video_rtp_sent'] or 0) > 0 and int(r['video_rtp_back'] or 0) > 0))" "$dir/c.csv" 2>/dev/null)
if [ "$rows" = "$n" ]; then ok "--clients-csv: $n rows with video sent and back (columns video_rtp_sent, video_rtp_back)"; else bad "--clients-csv: $rows rows with video sent and back, want $n"; head -3 "$dir/c.csv"; fi
sleep 0.5
if [ "$(pgrep -f "swarmgen-$run_pid-" | wc -l)" -eq 0 ] && ! ls /dev/shm/swarmgen-"$run_pid"-* >/dev/null 2>&1; then ok "no process and no /dev/shm file left"; else bad "a process or /dev/shm file left"; fi
summary
[ "$failed" -eq 0 ]

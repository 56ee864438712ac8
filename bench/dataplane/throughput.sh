#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Encrypted (and plain) traffic at saturation, per core count: the no-drop
# rate (RFC 2544 style: the highest offered rate with >= 99.99 % delivered
# and >= 99 % of it achieved, found by bisection) of
#   a. 1,200-byte DataChannel messages to neighbours: msg/s, Gbit/s of
#      payload and of L2 frames
#   b. 64-byte routed DataChannel messages: msg/s and DataChannel msg/s
#      (every hop a DataChannel message)
#   c. SRTP video, 1,200-byte packets (1,172 bytes of payload, 12 of RTP
#      header, the 16-byte tag of AEAD_AES_256_GCM, which the mesh
#      negotiates): packets/s and Gbit/s of SRTP packets
#   d. plain UDP frames (64-byte messages) to neighbours and routed: frames/s
# (for c: <= 0.01 % lost as RTCP receiver reports count it), each with busy
# ns per message (busy core time / delivered), both ends of
# every connection on the core that owns it (embedded net_ring ports), 400
# agents in kmesh:k=8 (1,601 connections), release build. Then REPS runs
# at each no-drop rate; medians are printed. Prints figures; not a test.
#   bench/dataplane/throughput.sh [BUILD_DIR] [REPS]
#   ONLY=a,b,c,d picks workloads; CORES="0 0,1" picks core sets; DURATION=5s.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/dataplane/bench_lib.sh
bench_args "$@"
dur=${DURATION:-5s}
only=${ONLY:-a,b,c,d}
core_sets=${CORES:-"0 0,1"}
agents=400
topo=kmesh:k=8
streams=3202 # 1,601 connections, a stream each way

bench_machine
printf "workloads: %s agents, %s; %s per run; no-drop: >= 99.99 %% delivered, >= 99 %% of the rate\n" \
  "$agents" "$topo" "$dur"

# run KIND CORES RATE FILE: one swarmgen run at RATE of workload KIND
run() {
  local kind=$1 cores=$2 rate=$3 file=$4
  local common=(run --quiet --agents "$agents" --topology "$topo" --cores "$cores" --duration "$dur" --report "$file")
  case $kind in
    a) "$bin" "${common[@]}" --traffic "dc:size=1200,pattern=neighbors,rate=$rate" ;;
    b) "$bin" "${common[@]}" --traffic "dc:size=64,pattern=routed,rate=$rate" ;;
    c) "$bin" "${common[@]}" --traffic "dc:rate=100" --media "video:bitrate=$rate,fps=50,payload=1172" ;;
    d1) "$bin" "${common[@]}" --traffic udp --pattern neighbors --size 64 --rate "$rate" ;;
    d2) "$bin" "${common[@]}" --traffic udp --pattern routed --size 64 --rate "$rate" ;;
  esac > /dev/null 2>&1
}

# fig KIND RATE FILE -> "ok achieved x y ns": ok 1 when the run passed
fig() {
  python3 - "$1" "$2" "$3" "$streams" <<'PY'
import json, sys
kind, rate, path, streams = sys.argv[1], float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
try:
    r = json.load(open(path))
except Exception:
    print(0, 0, 0, 0, 0)
    sys.exit()
d = r["duration_s"] or 1e-9
busy_s = sum(c["busy_pct"] / 100 for c in r["cores"]) * d
m, t = r["messages"], r["throughput"]
if kind == "c":
    md = r["media"]
    sent, got = md["rtp_sent"], md["packets"]
    pps = got / d
    # loss as the receivers' RTCP reports count it (packets still in
    # flight when the run ends are not lost)
    ok = sent > 0 and md["loss"] <= 0.0001 and pps >= 0.99 * rate * streams / 8 / 1172.0
    print(int(ok), pps, pps * 1200 * 8 / 1e9, 0, busy_s * 1e9 / max(got, 1))
    sys.exit()
ok = m["delivery_rate"] >= 0.9999 and t["msgs_per_s"] >= 0.99 * rate
dc = r.get("dc_msgs", {}).get("sent", 0) / d
x = t["msgs_per_s"] * (1200 * 8 / 1e9 if kind == "a" else 1)
y = t["mbps"] / 1e3 if kind == "a" else dc if kind == "b" else t["pps"]
print(int(ok), t["msgs_per_s"], x, y, busy_s * 1e9 / max(m["delivered"], 1))
PY
}

# nodrop KIND CORES LO HI: bisection between a rate that passes (LO, 0:
# none known) and one that fails (HI), to 2 %
nodrop() {
  local kind=$1 cores=$2 lo=$3 hi=$4
  local ok
  # the start: double until a rate fails
  while :; do
    run "$kind" "$cores" "$hi" "$out/p.json" || true
    read -r ok _ _ _ _ < <(fig "$kind" "$hi" "$out/p.json")
    [ "$ok" = 1 ] || break
    lo=$hi
    hi=$((hi * 2))
  done
  while [ $((hi - lo)) -gt $((hi / 50)) ]; do
    local mid=$(((lo + hi) / 2))
    run "$kind" "$cores" "$mid" "$out/p.json" || true
    read -r ok _ _ _ _ < <(fig "$kind" "$mid" "$out/p.json")
    if [ "$ok" = 1 ]; then lo=$mid; else hi=$mid; fi
  done
  echo "$lo"
}

# at_best I: run I of $kind on $cores at $best -> "achieved x y ns"
at_best() {
  run "$kind" "$cores" "$best" "$out/r.json" || true
  local m x y n
  read -r _ m x y n < <(fig "$kind" "$best" "$out/r.json")
  echo "$m $x $y $n"
}

report() { # KIND LABEL UNIT_X UNIT_Y START
  local kind=$1 label=$2 ux=$3 uy=$4 start=$5
  printf "\n%s\n" "$label"
  printf "%-6s %14s %14s %14s %16s %12s\n" cores nodrop_rate achieved "$ux" "$uy" busy_ns/msg
  for cores in $core_sets; do
    local best
    best=$(nodrop "$kind" "$cores" 0 "$start")
    if [ "$best" = 0 ]; then
      echo "$cores: no rate sustained"
      continue
    fi
    local m x y n
    bench_medians "$reps" at_best > "$out/med"
    read -r m x y n < "$out/med"
    printf "%-6s %14s %14.0f %14.3f %16.0f %12.0f\n" "$cores" "$best" "$m" "$x" "$y" "$n"
  done
}

case ",$only," in *,a,*)
  report a "a. 1,200-byte DataChannel messages to neighbours (rate: msg/s)" payload_Gbit/s L2_Gbit/s 200000 ;;
esac
case ",$only," in *,b,*)
  report b "b. 64-byte routed DataChannel messages (rate: msg/s)" msg/s dc_msg/s 200000 ;;
esac
case ",$only," in *,c,*)
  report c "c. SRTP video, 1,200-byte packets (rate: bits/s of each of $streams streams; achieved: packets/s)" \
    SRTP_Gbit/s - 500000 ;;
esac
case ",$only," in *,d,*)
  report d1 "d. plain UDP frames to neighbours (rate: frames/s)" frames/s frames/s 4000000
  report d2 "d. plain UDP frames, routed (rate: messages/s)" msg/s frames/s 2000000 ;;
esac

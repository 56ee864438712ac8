#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Soak: a mid-size swarm with media and DataChannels for a long time under
# repeated spikes, sampled every minute; fails when memory grows after the
# warm-up or an accounting identity breaks.
#
#   bench/soak.sh [DURATION] [BUILD_DIR]     DURATION 2m..10h (default 1h), BUILD_DIR default build
#
# The workload (environment, defaults in brackets): SOAK_AGENTS [300]
# agents in SOAK_TOPOLOGY [kmesh:k=4] (601 peer connections), each with
# an SRTP audio stream both ways (SOAK_MEDIA [audio]) and reliable
# DataChannels carrying 64-byte routed messages at SOAK_RATE [1000]
# msg/s, on the dataplane cores SOAK_CORES [1]. The load is a scenario of
# cycles of SOAK_CYCLE [10m] (at most 10 cycles): 70 % at the base rate,
# 10 % at five times it (a spike), 20 % back at the base rate.
#
# Every SOAK_SAMPLE [60] seconds it scrapes the run's Prometheus page
# (every counter and gauge: messages, drops by reason, connections, SCTP,
# RTP/RTCP/SRTP, mbufs and SCTP buffers in use) and reads the resident
# memory (VmRSS) of swarmgen and swarmgen-dp from /proc, into
# SOAK_OUT/samples.csv (SOAK_OUT [a new directory under /tmp], kept).
# At the end it judges, from the samples after the first cycle (the
# warm-up):
#   memory   the least-squares growth of each process's RSS (control's net
#            of the per-second series it keeps by design, the gauge
#            swarmgen_control_series_bytes), and of mbufs
#            and SCTP buffers in use as the floor of every cycle (the least
#            of its base-rate samples before the spike), projected
#            over the judged span: each within SOAK_GROWTH_KIB [1024] KiB
#            (RSS) or 5 % + 64 buffers (mbufs, SCTP buffers)
#   each sample: messages in flight (sent - delivered - dropped) >= 0 and
#            below 10 s of the peak rate; DataChannel messages sent -
#            received >= 0; SRTP protected = RTP + RTCP sent exactly;
#            SRTP unprotected + auth failures + replays >= RTP + RTCP
#            received; no connection given up or closed
#   the end  (the JSON report after the drain) every message sent is
#            delivered or counted lost (sent = delivered + lost +
#            in flight exactly, in flight the dataplane's own census of
#            what it held at the stop, unaccounted 0); DataChannel
#            messages sent = agent messages sent + forwarded, received =
#            delivered + forwarded; every connection up; 0 SRTP
#            authentication failures and replays
# Prints the verdict of each and exits 0 when all hold, 1 when one does
# not, 2 on bad usage. Needs root (hugepages) or runs with --hugepages off.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: bench/soak.sh [DURATION (2m..10h, default 1h)] [BUILD_DIR]" >&2; exit 2; }
[ $# -le 2 ] || usage
dur=${1:-1h}
build=${2:-build}
bin=$build/tools/swarmgen
[ -x "$bin" ] || { echo "soak: $bin not found (build first: meson setup $build && ninja -C $build)" >&2; exit 2; }

# seconds of a duration like 90s, 10m, 1h
secs() {
  case "$1" in
    *h) echo $(( ${1%h} * 3600 )) ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo $(( ${1%s} )) ;;
    *) echo -1 ;;
  esac
}
[[ "$dur" =~ ^[0-9]+[hms]$ ]] || usage
total=$(secs "$dur")
[ "$total" -ge 120 ] && [ "$total" -le 36000 ] || usage

agents=${SOAK_AGENTS:-300}
topo=${SOAK_TOPOLOGY:-kmesh:k=4}
rate=${SOAK_RATE:-1000}
media=${SOAK_MEDIA:-audio}
cores=${SOAK_CORES:-1}
cycle=$(secs "${SOAK_CYCLE:-10m}")
sample=${SOAK_SAMPLE:-60}
growth_kib=${SOAK_GROWTH_KIB:-1024}
[ "$cycle" -ge 60 ] || { echo "soak: SOAK_CYCLE must be 60s or more" >&2; exit 2; }
n_cycles=$(( total / cycle ))
[ "$n_cycles" -ge 2 ] && [ "$n_cycles" -le 10 ] || {
  echo "soak: DURATION / SOAK_CYCLE must be 2..10 cycles (now $n_cycles)" >&2; exit 2; }
out=${SOAK_OUT:-$(mktemp -d /tmp/swarmgen-soak.XXXXXX)}
mkdir -p "$out"
port=$(( 19100 + $$ % 800 ))

# The scenario: n_cycles x (base 70 %, spike 10 % at 500 %, base 20 %).
base1=$(( cycle * 7 / 10 )); spike=$(( cycle / 10 )); base2=$(( cycle - base1 - spike ))
{
  echo "name: soak"
  echo "phases:"
  for c in $(seq "$n_cycles"); do
    printf '  - name: base-%d\n    duration: %ds\n    rate: 100%%\n' "$c" "$base1"
    printf '  - name: spike-%d\n    duration: %ds\n    rate: 500%%\n    spike: true\n' "$c" "$spike"
    printf '  - name: after-%d\n    duration: %ds\n    rate: 100%%\n' "$c" "$base2"
  done
} > "$out/scenario.yaml"

echo "soak: $dur ($n_cycles cycles of ${cycle}s), $agents agents $topo, media $media, dc $rate msg/s (spikes 5x), cores $cores; out $out"
"$bin" run --agents "$agents" --topology "$topo" --media "$media" --rate "$rate" \
  --profile "$out/scenario.yaml" --duration "${total}s" --drain 30s --cores "$cores" \
  --prom "127.0.0.1:$port" --report "$out/report.json" --csv "$out/run.csv" --quiet \
  > "$out/run.log" 2>&1 &
ctl=$!
stop() { kill -INT "$ctl" 2>/dev/null || true; wait "$ctl" 2>/dev/null || true; }
trap stop INT TERM

# One sample: time, RSS of both processes, then every metric of the page.
scrape() {
  local t=$1 dp rss_c rss_d
  dp=$(pgrep -P "$ctl" -x swarmgen-dp | head -1 || true)
  rss_c=$(awk '/^VmRSS/ {print $2}' "/proc/$ctl/status" 2>/dev/null || echo 0)
  rss_d=$( [ -n "$dp" ] && awk '/^VmRSS/ {print $2}' "/proc/$dp/status" 2>/dev/null || echo 0)
  python3 - "$t" "$rss_c" "$rss_d" "$port" >> "$out/samples.jsonl" <<'EOF' || true
import json, sys, urllib.request
t, rc, rd, port = sys.argv[1:5]
try:
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
except Exception:
    sys.exit(1)
m = {}
for line in page.splitlines():
    if line.startswith("#") or " " not in line or "_bucket{" in line:
        continue
    k, v = line.rsplit(" ", 1)
    m[k] = float(v)
print(json.dumps({"t": float(t), "rss_ctl_kib": int(rc), "rss_dp_kib": int(rd), "m": m}))
EOF
}

t0=$(date +%s)
next=$(( t0 + sample ))
while kill -0 "$ctl" 2>/dev/null; do
  now=$(date +%s)
  if [ "$now" -ge "$next" ]; then
    scrape $(( now - t0 ))
    next=$(( next + sample ))
  fi
  sleep 1
done
set +e
wait "$ctl"
rc=$?
set -e
echo "soak: swarmgen run exited $rc; $(wc -l < "$out/samples.jsonl" 2>/dev/null || echo 0) samples"

python3 - "$out" "$rc" "$cycle" "$sample" "$growth_kib" "$rate" <<'EOF'
import json, sys
out, rc, cycle, sample, growth_kib, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
bad = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        bad.append(what)

rows = [json.loads(l) for l in open(f"{out}/samples.jsonl")] if rc == 0 else []
check(rc == 0, f"swarmgen run exited {rc} (log {out}/run.log)")
if not rows:
    sys.exit(1)
# the load starts after the connect phase: times from the first sample whose phase is not connect
load = [r for r in rows if r["m"].get('swarmgen_phase_info{phase="connect"}') is None]
start = load[0]["m"]["swarmgen_elapsed_seconds"] if load else 0
def g(r, k): return r["m"].get(k, 0.0)

import csv
keys = sorted({k for r in rows for k in r["m"]})
with open(f"{out}/samples.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["t_s", "rss_ctl_kib", "rss_dp_kib"] + keys)
    for r in rows:
        w.writerow([r["t"], r["rss_ctl_kib"], r["rss_dp_kib"]] + [r["m"].get(k, "") for k in keys])

def slope(pts):
    n = len(pts)
    if n < 2: return 0.0
    mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else 0.0

judged = [r for r in load if g(r, "swarmgen_elapsed_seconds") >= cycle]
print(f"samples: {len(rows)}, in the load {len(load)}, judged after the first cycle {len(judged)}")
check(len(judged) >= 3, "at least 3 samples after the warm-up cycle")
span = (g(judged[-1], "swarmgen_elapsed_seconds") - g(judged[0], "swarmgen_elapsed_seconds")) if judged else 0
for name, key in (("swarmgen", "rss_ctl_kib"), ("swarmgen-dp", "rss_dp_kib")):
    pts = [(g(r, "swarmgen_elapsed_seconds"), r[key]) for r in judged]
    s = slope(pts)
    lo = min(p[1] for p in pts) if pts else 0; hi = max(p[1] for p in pts) if pts else 0
    if key == "rss_ctl_kib":  # net of the per-second series control keeps by design
        pts = [(t, v - g(r, "swarmgen_control_series_bytes") / 1024) for (t, v), r in zip(pts, judged)]
        s = slope(pts)
    net = " net of its per-second series" if key == "rss_ctl_kib" else ""
    check(s * span <= growth_kib,
          f"RSS {name}: {lo}..{hi} KiB after warm-up, growth{net} {s * 60:.2f} KiB/min, {s * span:.0f} KiB over {span / 60:.0f} min (limit {growth_kib:.0f})")
# the floor of every cycle: the least in use over its base-rate samples before the spike (a leak
# raises it; the backlog of a spike or a busy moment does not)
per_cycle = {}
for r in judged:
    e = g(r, "swarmgen_elapsed_seconds")
    c, off = int(e // cycle), e % cycle
    if off < cycle * 0.7:
        per_cycle.setdefault(c, []).append(r)
for name, key in (("mbufs in use", "swarmgen_mbufs_in_use"), ("SCTP buffers in use", "swarmgen_sctp_buffers_in_use")):
    pts = [(c * cycle, min(g(r, key) for r in per_cycle[c])) for c in sorted(per_cycle)]
    vals = [int(p[1]) for p in pts]
    s = slope(pts)
    first = vals[0] if vals else 0
    grow = s * (pts[-1][0] - pts[0][0]) if len(pts) > 1 else 0
    check(grow <= first * 0.05 + 64,
          f"{name}, floor of each cycle: {vals}, growth {grow:.0f} over the judged cycles (limit {first * 0.05 + 64:.0f})")
# identities on every sample
peak = rate * 5
for r in load:
    e = g(r, "swarmgen_elapsed_seconds")
    sent, dl, dr = g(r, "swarmgen_messages_sent_total"), g(r, "swarmgen_messages_delivered_total"), g(r, "swarmgen_messages_dropped_total")
    infl = sent - dl - dr
    dctx, dcrx = g(r, "swarmgen_datachannel_messages_sent_total"), g(r, "swarmgen_datachannel_messages_received_total")
    prot = g(r, 'swarmgen_srtp_packets_total{outcome="protected"}')
    rtp_tx = g(r, 'swarmgen_rtp_packets_total{direction="sent"}') + g(r, 'swarmgen_rtcp_packets_total{direction="sent"}')
    rtp_rx = g(r, 'swarmgen_rtp_packets_total{direction="received"}') + g(r, 'swarmgen_rtcp_packets_total{direction="received"}')
    unprot = sum(g(r, f'swarmgen_srtp_packets_total{{outcome="{o}"}}') for o in ("unprotected", "auth_failure", "replay"))
    for ok, what in ((0 <= infl < peak * 10, f"messages in flight {infl:.0f}"),
                     (dctx >= dcrx, f"DataChannel sent {dctx:.0f} >= received {dcrx:.0f}"),
                     (prot == rtp_tx, f"SRTP protected {prot:.0f} = RTP+RTCP sent {rtp_tx:.0f}"),
                     (unprot >= rtp_rx, f"SRTP in {unprot:.0f} >= RTP+RTCP received {rtp_rx:.0f}"),
                     (g(r, "swarmgen_connections_given_up_total") == 0 and g(r, "swarmgen_connections_closed_total") == 0,
                      "no connection given up or closed")):
        if not ok:
            check(False, f"at {e:.0f} s: {what}")
check(not any(b.startswith("at ") for b in bad), f"identities hold on all {len(load)} samples in the load")
# the end
rep = json.load(open(f"{out}/report.json"))
msg, conn, sctp = rep["messages"], rep["connections"], rep.get("sctp", {})
infl = msg.get("in_flight", 0)
check(msg["sent"] == msg["delivered"] + msg["dropped_in_flight"] + (infl or 0) and msg.get("unaccounted", 0) == 0,
      f"report: sent {msg['sent']} = delivered {msg['delivered']} + lost {msg['dropped_in_flight']} + in flight {infl} "
      f"(the dataplane's census at the stop), unaccounted {msg.get('unaccounted', 0)}")
dcm = rep.get("dc_msgs", {})
if dcm:
    check(dcm.get("sent") == msg["sent"] + msg["forwarded"] and dcm.get("received") == msg["delivered"] + msg["forwarded"],
          f"report: DataChannel messages sent {dcm.get('sent')} = sent + forwarded {msg['sent'] + msg['forwarded']}, received {dcm.get('received')} = delivered + forwarded {msg['delivered'] + msg['forwarded']}")
check(conn["established"] == conn["total"] and conn["given_up"] == 0,
      f"report: {conn['established']} of {conn['total']} connections up, {conn['given_up']} given up, {conn.get('closed', 0)} closed")
srtp = rep.get("srtp", {})
check(srtp.get("auth_failures", 0) == 0 and srtp.get("replays", 0) == 0,
      f"report: SRTP auth failures {srtp.get('auth_failures')}, replays {srtp.get('replays')}")
print(f"report: {msg['sent']} messages sent, delivery {msg['delivery_rate'] * 100:.4f} %, "
      f"latency p99 {rep['latency_us']['p99'] / 1000:.1f} ms; samples {out}/samples.csv")
print("soak: " + ("PASS" if not bad else f"FAIL ({len(bad)})"))
sys.exit(1 if bad else 0)
EOF

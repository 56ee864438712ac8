#!/bin/bash
# SPDX-License-Identifier: MIT
# Target mode against Janus's VideoRoom (Debian's janus 1.1.2 started by
# tools/janus-lab in the external port's namespace): swarmgen run
# --target janus-videoroom:http://127.0.0.1:8088/janus,rooms=4,publishers=2
# with 32 agents (4 rooms of 2 publishers and 6 subscribers), --media
# audio. Checked: every session up; per room, every DataChannel message a
# publisher sent reached every subscriber of its room exactly once
# (received == published x subscribers, no sequence out of order, per
# subscriber its room's published count) and none from another room
# (foreign 0); every subscriber got SRTP audio from each publisher with 0
# authentication failures; the rooms were created and destroyed and every
# session detached and destroyed. Janus agrees: its log has 32 handles
# created, 32 freed and 32 data channels available; its admin API lists
# no session left; its VideoRoom lists none of our rooms afterwards.
#   target_videoroom.sh SWARMGEN SWARMGEN_DP EXTERNAL_PORT_SCRIPT JANUS_LAB_SCRIPT
# Exit 77 (skipped) without root, or without janus unless
# SWARMGEN_REQUIRE_JANUS is set.
set -uo pipefail
sg=$1
dp=$2
extport=$3
lab=$4
rooms=4
pubs=2
n=32
name=target_videoroom
. "$(dirname "$0")/target_lib.sh"
need_janus_lab

ns=sgvr$$
nx() { ip netns exec "$ns" "$@"; }
dir=$(mktemp -d "/tmp/swarmgen-$name-XXXXXX")
jdir=$dir/janus
cleanup() {
  lab_down
  rm -rf "$dir"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

lab_up

t0=$(date +%s)
ip netns exec "$ns" timeout -k 5 120 "$sg" run --dp "$dp" --agents "$n" --topology ring --rate 32 --duration 6s --cores 0 \
  --target "janus-videoroom:$url,rooms=$rooms,publishers=$pubs" --target-agents "$n" --target-rate 5 --size 256 \
  --media audio --target-timeout 15s --report "$dir/r.json" --clients-csv "$dir/c.csv" --html "$dir/r.html" > "$dir/run.log" 2>&1 &
pid=$!
wait "$pid"
rc=$?
t1=$(date +%s)
if [ "$rc" -eq 0 ]; then ok "the run ended (exit 0, $((t1 - t0)) s)"; else bad "the run: exit $rc"; tail -30 "$dir/run.log" | sed 's/^/  run: /'; fi
got=$(json "$dir/r.json" "(r['target']['sessions_up'], r['target']['stages']['datachannel']['established'], len(r['target']['rooms']))")
if [ "$got" = "($n, $n, $rooms)" ]; then
  ok "$n sessions up in $rooms rooms, set-up p50 $(json "$dir/r.json" "'%.1f ms, p99 %.1f ms' % (r['target']['setup_ms']['p50'], r['target']['setup_ms']['p99'])")"
else
  bad "sessions (up, datachannel established, rooms) $got, want ($n, $n, $rooms)"
  grep -a '^  room\|^target\|signal failures' "$dir/run.log" | sed 's/^/  run: /'
  cut -d, -f1,5,7,32- "$dir/c.csv" 2>/dev/null | grep -v ',none,up,\|,none,closed,' | head -20 | sed 's/^/  csv: /'
fi
# per room: exact accounting of the relayed messages and the audio streams
check=$(python3 - "$dir/r.json" "$dir/c.csv" "$pubs" <<'PY'
import csv, json, sys
r = json.load(open(sys.argv[1]))['target']
pubs = int(sys.argv[3])
rows = list(csv.DictReader(open(sys.argv[2])))
bad = []
tot_pub = tot_recv = 0
for k in r['rooms']:
    m, a = k['messages'], k['audio']
    subs = k['subscribers']['up']
    tot_pub += m['published']; tot_recv += m['received']
    if not (k['created'] and k['destroyed']): bad.append('room %d created %s destroyed %s' % (k['room'], k['created'], k['destroyed']))
    if k['publishers']['up'] != pubs or k['subscribers']['up'] != k['subscribers']['attempted'] or subs < 1:
        bad.append('room %d: publishers %s subscribers %s' % (k['room'], k['publishers'], k['subscribers']))
    if m['published'] < pubs * 10 or m['received'] != m['published'] * subs or m['expected'] != m['received']:
        bad.append('room %d: published %d x %d subscribers, received %d' % (k['room'], m['published'], subs, m['received']))
    if m['misordered'] or m['foreign']:
        bad.append('room %d: misordered %d foreign %d' % (k['room'], m['misordered'], m['foreign']))
    if a['srtp_auth_failures'] or a['streams'] != pubs * subs or a['streams_with_audio'] != a['streams'] or a['rtp_in'] < 50 * a['streams']:
        bad.append('room %d: audio %s' % (k['room'], a))
    # every subscriber: its room's published messages, each once
    for row in rows:
        if row['room'] == str(k['room']) and row['role'] == 'subscriber' and int(row['msgs_back'] or -1) != m['published']:
            bad.append('agent %s got %s messages, its room published %d' % (row['agent'], row['msgs_back'], m['published']))
tm = r['messages']
if tm.get('received') != tot_recv or tm.get('expected') != tot_recv or tm.get('delivery') != 1:
    bad.append('totals: expected %s, received %s, delivery %s (rooms received %d)' % (tm.get('expected'), tm.get('received'), tm.get('delivery'), tot_recv))
print('ok' if not bad else '; '.join(bad[:6]))
print('%d messages published in %d rooms, %d received by subscribers' % (tot_pub, len(r['rooms']), tot_recv))
PY
)
if [ "$(echo "$check" | head -1)" = ok ]; then
  ok "$(echo "$check" | tail -1): every one by every subscriber of its room once, none across rooms; audio from each publisher at each subscriber, 0 SRTP auth failures ($(json "$dir/r.json" "sum(k['audio']['rtp_in'] for k in r['target']['rooms'])") RTP packets in)"
else
  bad "room accounting: $check"
fi
# the memory plan counted the sessions (with their feeds' SRTP contexts) as the dataplane allocated them
got=$(json "$dir/r.json" "(r['memory']['categories']['target_sessions'], r['memory']['planned']['categories']['target_sessions'])")
if [ -n "$got" ] && [ "$(echo "$got" | tr -d '()' | awk -F', ' '$1 > 0 && $1 == $2 {print "same"}')" = same ]; then
  ok "memory: target sessions planned = allocated $got"
else
  bad "memory: target sessions (allocated, planned) $got"
fi
roles=$(tail -n +2 "$dir/c.csv" 2>/dev/null | cut -d, -f32 | sort | uniq -c | tr -s ' ' | tr '\n' ';')
if [ "$roles" = " $((rooms * pubs)) publisher; $((n - rooms * pubs)) subscriber;" ]; then ok "--clients-csv: room and role per agent ($roles)"; else bad "--clients-csv roles '$roles'"; fi
if [ "$(grep -c '<h3>Rooms</h3>' "$dir/r.html" 2>/dev/null)" = 1 ] && [ "$(grep -o '<tr><td>[0-9]*</td>' "$dir/r.html" | wc -l)" -ge "$rooms" ]; then ok "HTML report has the rooms table"; else bad "HTML report lacks the rooms table"; fi
got=$(json "$dir/r.json" "(r['target']['deleted'], r['target']['delete_failed'])")
if [ "$got" = "($n, 0)" ]; then ok "all $n sessions detached and destroyed on Janus"; else bad "(deleted, delete_failed) $got"; fi
secret=$(cat "$jdir/admin_secret")
left=$(nx curl -s -m 5 -X POST -d "{\"janus\":\"list_sessions\",\"transaction\":\"t1\",\"admin_secret\":\"$secret\"}" http://127.0.0.1:7088/admin |
  python3 -c "import json,sys; print(len(json.load(sys.stdin)['sessions']))" 2>/dev/null)
created=$(grep -c 'Creating new handle' "$jdir/janus.log")
freed=$(grep -c 'Handle and related resources freed' "$jdir/janus.log")
dcs=$(grep -c 'Data channel available' "$jdir/janus.log")
if [ "$left" = 0 ] && [ "$created" = "$n" ] && [ "$freed" = "$n" ] && [ "$dcs" = "$n" ]; then
  ok "Janus agrees: $created handles created, $freed freed, $dcs data channels available, no session left (admin API)"
else
  bad "Janus: sessions left '$left', handles created $created, freed $freed, data channels $dcs (want $n)"
fi
# the VideoRoom's own list, after the run: none of our rooms is left
ids=$(json "$dir/r.json" "' '.join(str(k['id']) for k in r['target']['rooms'])")
listed=$(nx python3 - "$url" <<'PY'
import json, sys, urllib.request
b = sys.argv[1]
def post(u, body):
    req = urllib.request.Request(u, json.dumps(body).encode(), {'Content-Type': 'application/json'})
    return json.loads(urllib.request.urlopen(req, timeout=5).read())
s = post(b, {'janus': 'create', 'transaction': 'a'})['data']['id']
h = post('%s/%d' % (b, s), {'janus': 'attach', 'plugin': 'janus.plugin.videoroom', 'transaction': 'b'})['data']['id']
l = post('%s/%d/%d' % (b, s, h), {'janus': 'message', 'transaction': 'c', 'body': {'request': 'list', 'admin_key': ''}})
post('%s/%d' % (b, s), {'janus': 'destroy', 'transaction': 'd'})
print(' '.join(str(x['room']) for x in l['plugindata']['data']['list']))
PY
)
leak=
for id in $ids; do case " $listed " in *" $id "*) leak="$leak $id" ;; esac; done
if [ -n "$ids" ] && [ -n "$listed" ] && [ -z "$leak" ]; then ok "Janus's VideoRoom list after the run: $listed (none of our $rooms rooms)"; else bad "VideoRoom list '$listed', ours '$ids', left '$leak'"; fi
sleep 0.5
if [ "$(pgrep -f "swarmgen-$pid-" | wc -l)" -eq 0 ] && ! ls /dev/shm/swarmgen-"$pid"-* >/dev/null 2>&1; then ok "no process and no /dev/shm file left"; else bad "a process or /dev/shm file left"; fi
summary
[ "$failed" -eq 0 ]

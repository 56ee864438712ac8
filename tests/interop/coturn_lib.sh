# SPDX-License-Identifier: MIT
# coturn (Debian's turnserver) for the interop tests that need a TURN
# server: sourced by relay_coturn.sh, relay_coturn_tcp.sh and
# target_relay.sh. The caller sets ns (the namespace the server runs in),
# server (its listening and relayed address), user, pass and realm (its
# one long-term credential), and calls stop_coturn on every exit path.

tpid=
tdir=

# start_coturn LOGDIR [udp|tcp [FLAGS...]]: a coturn on $server:3478 with
# its relayed addresses there too (ports 40000..49999), logging into
# LOGDIR; returns once it listens on UDP (or TCP) port 3478, 1 after 5 s.
start_coturn() {
  mkdir -p "$1"
  local logdir=$1 proto=${2:-udp}
  shift
  if [ $# -gt 0 ]; then shift; fi
  tdir=$logdir
  ip netns exec "$ns" turnserver "$@" -n -v --listening-ip="$server" --listening-port=3478 --relay-ip="$server" \
    --min-port=40000 --max-port=49999 --lt-cred-mech --user="$user:$pass" --realm="$realm" \
    --no-tls --no-dtls --no-cli --no-stdout-log --simple-log --log-file="$logdir/turn.log" \
    --pidfile="$logdir/turn.pid" --userdb="$logdir/turndb" > "$logdir/out" 2>&1 &
  tpid=$!
  local opt=-Hlun
  [ "$proto" = tcp ] && opt=-Hltn
  for _ in $(seq 50); do
    ip netns exec "$ns" ss $opt "sport = :3478" 2>/dev/null | grep -q 3478 && return 0
    sleep 0.1
  done
  return 1
}

# stop_coturn: TERM, then KILL after 5 s. `ip netns exec` forks: the
# server's own pid comes from its pid file (or, before it is written,
# from the command line naming this run's directory).
stop_coturn() {
  [ -n "$tdir" ] || return 0
  local pids
  pids=$(cat "$tdir/turn.pid" 2>/dev/null; pgrep -f -- "--pidfile=$tdir/turn.pid")
  pids=$(echo $pids | tr ' ' '\n' | sort -u | tr '\n' ' ')
  [ -n "${pids// }" ] && kill -TERM $pids 2>/dev/null
  for _ in $(seq 50); do
    local alive=
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  [ -n "${pids// }" ] && kill -KILL $pids 2>/dev/null
  [ -n "$tpid" ] && wait "$tpid" 2>/dev/null
  tpid=
  tdir=
}

# log_count LOGDIR NEEDLE [NEEDLE2]: coturn's log lines with both needles
# (coturn writes the log under a name with the date: every turn*.log of
# the directory).
log_count() {
  cat "$1"/turn*.log 2>/dev/null | grep -F -- "$2" | grep -cF -- "${3:-$2}"
}

# accounting_check REPORT: the run report's message accounting (issue 19),
# through the caller's ok/bad: sent = delivered + lost + in_flight exactly
# (in_flight: the dataplane's census when it stopped) and unaccounted 0.
accounting_check() {
  local got
  got=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1]))['messages']; print(m['in_flight'] is not None and m['sent'] == m['delivered'] + m['lost'] + m['in_flight'] and m['unaccounted'] == 0, m['sent'], m['delivered'], m['lost'], m['in_flight'], m['unaccounted'])" "$1" 2>/dev/null)
  case "$got" in
    True\ *) ok "accounting: sent = delivered + lost + in flight ($(echo "$got" | cut -d' ' -f2-5 | tr ' ' '/')), unaccounted 0" ;;
    *) bad "accounting (ok sent delivered lost in_flight unaccounted): '$got'" ;;
  esac
}

# SPDX-License-Identifier: MIT
# Shared by the target-mode tests against tools/janus-lab (target_janus.sh,
# target_janus_video.sh, target_videoroom.sh, target_janus_secret.sh,
# target_join_ramp.sh), sourced after they set $name, $extport and $lab
# (the external-port and janus-lab scripts), $ns (their namespace) and
# $jdir (the lab's directory): the skip rule, the ok/bad tally, and the
# lab up and down.

require=SWARMGEN_REQUIRE_JANUS
. "$(dirname "${BASH_SOURCE[0]}")/interop_lib.sh"

# need_janus_lab: skipped without root, janus or curl
need_janus_lab() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (tools/external-port creates a veth pair)" root
  command -v janus >/dev/null || skip "janus is not installed (tools/install-deps test)"
  command -v curl >/dev/null || skip "curl is not installed"
}

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "$name: ok: $*"; }
bad() { failed=$((failed + 1)); echo "$name: FAILED: $*"; }
summary() { echo "[====] $name: Tested: $((passed + failed)) | Passing: $passed | Failing: $failed"; }

# lab_up: the veth into $ns and Janus there; $url its HTTP API (one
# FAILED line, the summary and exit 1 when either does not come up)
lab_up() {
  "$extport" up --netns "$ns" >/dev/null || { bad "tools/external-port up failed"; summary; exit 1; }
  "$lab" up --netns "$ns" --dir "$jdir" >/dev/null || { bad "janus-lab up failed"; tail -20 "$jdir/janus.log" 2>/dev/null; summary; exit 1; }
  url=$(cat "$jdir/url")
}

# lab_down: both gone (for the caller's cleanup)
lab_down() {
  "$lab" down --netns "$ns" --dir "$jdir" >/dev/null 2>&1
  "$extport" down --netns "$ns" >/dev/null 2>&1
}

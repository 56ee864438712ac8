# SPDX-License-Identifier: MIT
# Shared by the interop tests (werift.sh, werift_whip.sh, chromium_whip.sh),
# sourced after they set $name (the test's name in its output lines), $src
# (this directory) and $require (the SWARMGEN_REQUIRE_* variable that turns
# a skip into a failure): how a test that cannot run here says so, and
# werift (npm) installed once into a cache directory with the scripts that
# drive it.

# skip WHY [root]: exit 77 (skipped) with WHY, or exit 1 when $require is
# set in the environment, unless WHY is the lack of root.
skip() {
  if [ -n "${!require:-}" ] && [ "${2:-}" != root ]; then
    echo "$name: $1" >&2
    exit 1
  fi
  echo "$name: skipped: $1"
  exit 77
}

werift_version=0.24.4
werift_cache=${SWARMGEN_WERIFT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/swarmgen/werift-$werift_version}

# werift_install SCRIPT: werift into $werift_cache once (a skip without node
# and npm, or when npm cannot install it), and SCRIPT with the module it
# imports (werift_msgs.mjs) from $src beside it, where node finds werift.
werift_install() {
  command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are not installed (tools/install-deps test)"
  if [ ! -f "$werift_cache/node_modules/werift/package.json" ]; then
    mkdir -p "$werift_cache"
    timeout 300 npm install --prefix "$werift_cache" --no-audit --no-fund --loglevel=error "werift@$werift_version" >/dev/null 2>&1 ||
      skip "npm install werift@$werift_version failed (is the npm registry reachable?)"
  fi
  cp "$src/werift_msgs.mjs" "$src/$1" "$werift_cache/"
}

# SPDX-License-Identifier: MIT
# Janus's admin API view of every handle whose ICE is ready, for the
# target-mode tests (target_janus_video.sh, target_relay.sh), run in the
# lab's namespace while a swarmgen run lasts:
#   python3 janus_admin.py ADMIN_SECRET SECONDS PID [N]
# polls list_sessions / list_handles / handle_info on 127.0.0.1:7088 until
# PID ends or SECONDS pass, and prints {"SESSION/HANDLE": handle_info's
# info} as JSON. Without N each handle's latest reading is kept (the
# handles are gone once the run ends); with N each handle's first reading
# once its ICE is ready, and the poll ends when N handles were seen.
import json, os, sys, time, urllib.request

secret, until, run = sys.argv[1], time.time() + float(sys.argv[2]), int(sys.argv[3])
want = int(sys.argv[4]) if len(sys.argv) > 4 else None


def running():
    try:
        os.kill(run, 0)
        return True
    except OSError:
        return False


def adm(path, req):
    body = json.dumps(dict(req, transaction="t", admin_secret=secret)).encode()
    with urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:7088/admin" + path, body), timeout=5) as f:
        return json.load(f)


seen = {}
while (want is None or len(seen) < want) and time.time() < until and running():
    try:
        for s in adm("", {"janus": "list_sessions"}).get("sessions", []):
            for h in adm("/%d" % s, {"janus": "list_handles"}).get("handles", []):
                k = "%d/%d" % (s, h)
                if want is not None and k in seen:
                    continue
                info = adm("/" + k, {"janus": "handle_info"}).get("info", {})
                if info.get("webrtc", {}).get("ice", {}).get("state") == "ready":
                    seen[k] = info
    except Exception:
        pass
    time.sleep(0.2)
print(json.dumps(seen))

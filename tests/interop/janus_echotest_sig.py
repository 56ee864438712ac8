# SPDX-License-Identifier: MIT
"""Signals one EchoTest session with Janus's HTTP API for target_dp:
create a session, attach janus.plugin.echotest, send our SDP offer (no
trickle: Janus answers with its candidates), long-poll for the answer.
  janus_echotest_sig.py URL OFFER_FILE ANSWER_FILE
Writes the answer's SDP to ANSWER_FILE, prints "session handle"; exit 0,
or 1 when Janus gave no answer."""
import json
import random
import sys
import urllib.request

url, offer_path, answer_path = sys.argv[1:4]


def post(u, body):
    r = urllib.request.Request(u, data=json.dumps(body).encode(), headers={'Content-Type': 'application/json'})
    return json.loads(urllib.request.urlopen(r, timeout=10).read())


def tx():
    return str(random.getrandbits(48))


s = post(url, {'janus': 'create', 'transaction': tx()})['data']['id']
hd = post(f'{url}/{s}', {'janus': 'attach', 'plugin': 'janus.plugin.echotest', 'transaction': tx()})['data']['id']
sdp = open(offer_path).read()
post(f'{url}/{s}/{hd}', {'janus': 'message', 'body': {'audio': True, 'data': True},
                         'jsep': {'type': 'offer', 'sdp': sdp, 'trickle': False}, 'transaction': tx()})
for _ in range(20):
    got = json.loads(urllib.request.urlopen(f'{url}/{s}?maxev=1', timeout=35).read())
    for e in got if isinstance(got, list) else [got]:
        if 'jsep' in e:
            open(answer_path, 'w').write(e['jsep']['sdp'])
            print(f'{s} {hd}')
            sys.exit(0)
sys.exit(1)

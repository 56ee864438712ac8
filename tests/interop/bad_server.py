# SPDX-License-Identifier: MIT
# A misbehaving WebRTC signalling server for the target-mode tests
# (target_bad_servers.sh): python3 bad_server.py PORT MODE, on 127.0.0.1.
#   500      every request gets 500 Internal Server Error
#   garbage  POST gets 201 + Location and a body that is not SDP
#   silent   requests are read and never answered (the connection stays open)
#   nosdp    POST gets 201 + Location and SDP without a fingerprint
# Counts requests by method into PORT.count (one line: "POST n DELETE m")
# when it gets SIGTERM, so the test can check what swarmgen sent.
import os
import signal
import socketserver
import sys
import threading
import http.server

port, mode = int(sys.argv[1]), sys.argv[2]
counts = {"POST": 0, "DELETE": 0, "OTHER": 0}
lock = threading.Lock()


def count(method):
    with lock:
        counts[method if method in counts else "OTHER"] += 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, code, body=b"", ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        count("POST")
        self.body()
        if mode == "silent":
            threading.Event().wait(3600)
            return
        if mode == "500":
            return self.reply(500, b"internal error\n")
        if mode == "garbage":
            return self.reply(201, b"\x00\x01this is not SDP\r\n", "application/sdp",
                              [("Location", "/whip/sessions/1")])
        sdp = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
               b"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
               b"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:passive\r\n"
               b"a=sctp-port:5000\r\na=candidate:1 1 udp 2130706431 198.19.255.254 9 typ host\r\n")
        return self.reply(201, sdp, "application/sdp", [("Location", "/whip/sessions/1")])

    def do_DELETE(self):
        count("DELETE")
        if mode == "silent":
            threading.Event().wait(3600)
            return
        self.reply(500 if mode == "500" else 200)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", port), Handler)


def stop(*_):
    try:
        with open(f"{sys.argv[3] if len(sys.argv) > 3 else port}.count", "w") as f:
            f.write(f"POST {counts['POST']} DELETE {counts['DELETE']} OTHER {counts['OTHER']}\n")
    finally:
        os._exit(0)


signal.signal(signal.SIGTERM, stop)
srv.serve_forever()

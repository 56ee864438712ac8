# SPDX-License-Identifier: MIT
# An ICE-lite WHIP server that never sends first, for target_gateway.sh:
#   python3 lite_server.py HTTP_PORT ICE_ADDR ICE_PORT COUNT_FILE
# Every WHIP POST (on 0.0.0.0:HTTP_PORT) gets 201 + Location and an answer
# with a=ice-lite, one host candidate ICE_ADDR:ICE_PORT and a DataChannel;
# DELETE gets 200. On ICE_ADDR:ICE_PORT it answers STUN Binding requests
# (RFC 8489: XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY with its ice-pwd,
# FINGERPRINT) and nothing else: no DTLS, so a session gets through ICE
# and fails in DTLS. On SIGTERM it writes "answered N agents M" (Binding
# responses sent; distinct source addresses) into COUNT_FILE.
import hashlib
import hmac
import http.server
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import zlib

http_port, ice_addr, ice_port, count_file = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
UFRAG, PWD = "lite", "abcdefghijklmnopqrstuvwx"
MAGIC = 0x2112A442
answered = 0
sources = set()


def answer_sdp():
    fp = ":".join(["AB"] * 32)
    return (f"v=0\r\no=- 1 1 IN IP4 {ice_addr}\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
            f"m=application {ice_port} UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 {ice_addr}\r\n"
            f"a=ice-ufrag:{UFRAG}\r\na=ice-pwd:{PWD}\r\na=fingerprint:sha-256 {fp}\r\na=setup:passive\r\n"
            f"a=mid:0\r\na=sctp-port:5000\r\n"
            f"a=candidate:1 1 udp 2130706431 {ice_addr} {ice_port} typ host\r\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        self.reply(201, answer_sdp(), "application/sdp", [("Location", "/whip/sessions/1")])

    def do_DELETE(self):
        self.reply(200)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def stun_loop():
    global answered
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ice_addr, ice_port))
    while True:
        d, (ip, port) = s.recvfrom(2048)
        if len(d) < 20 or d[0] >= 4:
            continue
        mtype, mlen, magic = struct.unpack("!HHI", d[:8])
        if mtype != 0x0001 or magic != MAGIC:
            continue
        tid = d[8:20]
        xport = port ^ (MAGIC >> 16)
        xip = struct.unpack("!I", socket.inet_aton(ip))[0] ^ MAGIC
        attrs = struct.pack("!HHBBHI", 0x0020, 8, 0, 1, xport, xip)
        # MESSAGE-INTEGRITY over the header (length counting it) and what precedes it
        head = struct.pack("!HHI", 0x0101, len(attrs) + 24, MAGIC) + tid
        mac = hmac.new(PWD.encode(), head + attrs, hashlib.sha1).digest()
        attrs += struct.pack("!HH", 0x0008, 20) + mac
        head = struct.pack("!HHI", 0x0101, len(attrs) + 8, MAGIC) + tid
        crc = (zlib.crc32(head + attrs) ^ 0x5354554E) & 0xFFFFFFFF
        attrs += struct.pack("!HHI", 0x8028, 4, crc)
        s.sendto(head + attrs, (ip, port))
        answered += 1
        sources.add(ip)


def stop(*_):
    try:
        with open(count_file, "w") as f:
            f.write(f"answered {answered} agents {len(sources)}\n")
    finally:
        os._exit(0)


signal.signal(signal.SIGTERM, stop)
threading.Thread(target=stun_loop, daemon=True).start()
Server(("0.0.0.0", http_port), Handler).serve_forever()

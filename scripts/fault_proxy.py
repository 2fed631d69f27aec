#!/usr/bin/env python3
"""A latency and fault proxy for aws-jit's tests and bench. Standard library only.

HTTP mode (in front of moto_server, reached through AWS_ENDPOINT_URL):
    fault_proxy.py http --upstream http://127.0.0.1:5000 [--latency-ms 50] [--account 123456789012]
Redis mode (in front of redis-server, reached through BACKEND_URL):
    fault_proxy.py redis --upstream 127.0.0.1:6379

It prints the port it listens on as the first line of stdout, then serves until killed.

Every AWS call is forwarded after `--latency-ms` (a real AWS region answers in tens of
milliseconds; moto in one or two). `--account` adds moto's `x-moto-account-id` header, so
each test (or bench) can have an AWS account of its own on one shared moto_server.

Faults are rules set through a control API on the same port (HTTP mode) or on a second
port printed as the second line (Redis mode):
    POST /__proxy/rules  {"op": "AttachUserPolicy", "times": 1, "action": "...", ...}
    POST /__proxy/clear
    GET  /__proxy/log    [{"op", "action", "arg"}...] every call seen, in order
Rules for one operation apply in the order added; `times` -1 means forever; `skip` lets
that many matching calls through first. Actions (HTTP):
    delay            wait `delay_ms`, then forward
    fail             answer an AWS error (`status`, `code`, `message`) without forwarding
    apply_then_fail  forward (the call takes effect), then answer an AWS error instead
    drop             forward, then close the connection without an answer (a lost reply)
    hang             hold the call without forwarding it, until the client goes away
Actions (Redis; `op` is the command name, e.g. EVALSHA, and `contains` a substring its
arguments must hold):
    drop_reply       forward the command (it takes effect), close instead of answering
    down             like drop_reply, then refuse every connection until /__proxy/clear
    refuse           the outage comes first: the command is not forwarded, and every
                     connection is refused until /__proxy/clear
"""

import argparse
import http.client
import json
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Rules:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.log = []
        self.down = False

    def add(self, rule):
        rule.setdefault("times", 1)
        rule.setdefault("skip", 0)
        with self.lock:
            self.rules.append(rule)

    def clear(self):
        with self.lock:
            self.rules = []
            self.down = False

    def take(self, op, text=""):
        """The action for this call, if a rule matches (and counts it)."""
        with self.lock:
            for r in self.rules:
                if r["op"] not in (op, "*") or r["times"] == 0:
                    continue
                if r.get("contains") and r["contains"] not in text:
                    continue
                if r["skip"] > 0:
                    r["skip"] -= 1
                    return None
                if r["times"] > 0:
                    r["times"] -= 1
                return dict(r)
        return None

    def record(self, op, action, arg=None):
        with self.lock:
            self.log.append({"op": op, "action": action, "arg": arg})


RULES = Rules()


def control(handler):
    """Serve /__proxy/...; True when the request was a control request."""
    path = handler.path
    if not path.startswith("/__proxy/"):
        return False
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    if path == "/__proxy/rules" and handler.command == "POST":
        RULES.add(json.loads(body or b"{}"))
        out = b"{}"
    elif path == "/__proxy/clear":
        RULES.clear()
        out = b"{}"
    elif path == "/__proxy/log":
        with RULES.lock:
            out = json.dumps(RULES.log).encode()
    else:
        out = b'{"error":"unknown control path"}'
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(out)))
    handler.end_headers()
    handler.wfile.write(out)
    return True


def operation(headers, body):
    """(operation name, a notable argument) of an AWS call: JSON protocol by
    X-Amz-Target, query protocol (IAM) by its form body."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1], None
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    op = form.get("Action", [""])[0]
    arg = (form.get("PolicyArn") or form.get("PolicyName") or [None])[0]
    return op, arg


def error_answer(headers, status, code, message):
    if headers.get("X-Amz-Target"):
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)], body
    body = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>fault-proxy</RequestId></ErrorResponse>"
    ).encode()
    return status, [("Content-Type", "text/xml")], body


class AwsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the client's delayed ACK
    # would add ~40 ms to every answer on top of the latency asked for.
    disable_nagle_algorithm = True
    upstream = None
    latency = 0.0
    account = None
    local = threading.local()

    def log_message(self, *args):
        pass

    def upstream_conn(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            u = urllib.parse.urlsplit(self.upstream)
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            self.local.conn = conn
        return conn

    def forward(self, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "host", "content-length")}
        headers["Content-Length"] = str(len(body))
        if self.account:
            headers["x-moto-account-id"] = self.account
        for attempt in range(2):
            conn = self.upstream_conn()
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, [(k, v) for k, v in resp.getheaders()
                                     if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date")], data
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 1:
                    raise

    def answer(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        if control(self):
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        op, arg = operation(self.headers, body)
        rule = RULES.take(op)
        action = rule["action"] if rule else "forward"
        RULES.record(op, action, arg)
        if self.latency:
            time.sleep(self.latency)
        if action == "delay":
            time.sleep(rule.get("delay_ms", 1000) / 1000.0)
        if action == "hang":
            # Never forwarded: wait for the client to give up (or the proxy to stop).
            try:
                while self.rfile.read(1):
                    pass
            except OSError:
                pass
            self.close_connection = True
            return
        if action == "fail":
            self.answer(*error_answer(self.headers, rule.get("status", 500), rule.get("code", "InternalFailure"),
                                      rule.get("message", "injected by fault_proxy")))
            return
        status, headers, data = self.forward(body)
        if action == "apply_then_fail":
            self.answer(*error_answer(self.headers, rule.get("status", 500), rule.get("code", "InternalFailure"),
                                      rule.get("message", "injected by fault_proxy after the call took effect")))
            return
        if action == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.answer(status, headers, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


# ---------- Redis ----------

def read_resp(f):
    """One RESP value from a file object, as raw bytes (None at EOF)."""
    line = f.readline()
    if not line:
        return None
    kind = line[:1]
    if kind in (b"+", b"-", b":"):
        return line
    if kind == b"$":
        n = int(line[1:])
        return line if n < 0 else line + f.read(n + 2)
    if kind == b"*":
        n = int(line[1:])
        out = line
        for _ in range(max(n, 0)):
            part = read_resp(f)
            if part is None:
                return None
            out += part
        return out
    return line


def command_parts(raw):
    """The bulk strings of a RESP array (a client command)."""
    parts, i = [], 0
    lines = raw.split(b"\r\n")
    while i < len(lines):
        if lines[i].startswith(b"$") and i + 1 < len(lines):
            parts.append(lines[i + 1])
            i += 2
        else:
            i += 1
    return parts


class RedisHandler(socketserver.BaseRequestHandler):
    upstream = None

    def handle(self):
        if RULES.down:
            return
        host, port = self.upstream
        up = socket.create_connection((host, port))
        for s in (up, self.request):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cf, uf = self.request.makefile("rb"), up.makefile("rb")
        try:
            while True:
                raw = read_resp(cf)
                if raw is None or RULES.down:
                    return
                parts = command_parts(raw)
                op = parts[0].decode("utf-8", "replace").upper() if parts else ""
                rule = RULES.take(op, raw.decode("utf-8", "replace"))
                action = rule["action"] if rule else "forward"
                RULES.record(op, action)
                if action == "refuse":
                    RULES.down = True
                    return
                up.sendall(raw)
                reply = read_resp(uf)
                if reply is None:
                    return
                if action in ("drop_reply", "down"):
                    if action == "down":
                        RULES.down = True
                    return
                self.request.sendall(reply)
        except OSError:
            return
        finally:
            up.close()


class ControlHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        if not control(self):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    do_GET = do_POST = handle_any


class ThreadingTCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["http", "redis"])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--account")
    args = ap.parse_args()
    if args.mode == "http":
        AwsHandler.upstream = args.upstream
        AwsHandler.latency = args.latency_ms / 1000.0
        AwsHandler.account = args.account
        srv = ThreadingHTTPServer(("127.0.0.1", 0), AwsHandler)
        srv.daemon_threads = True
        print(srv.server_address[1], flush=True)
        srv.serve_forever()
    else:
        host, _, port = args.upstream.rpartition(":")
        RedisHandler.upstream = (host or "127.0.0.1", int(port))
        srv = ThreadingTCP(("127.0.0.1", 0), RedisHandler)
        ctl = ThreadingHTTPServer(("127.0.0.1", 0), ControlHandler)
        ctl.daemon_threads = True
        print(srv.server_address[1], flush=True)
        print(ctl.server_address[1], flush=True)
        threading.Thread(target=ctl.serve_forever, daemon=True).start()
        srv.serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)

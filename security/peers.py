#!/usr/bin/env python3
"""Hostile peers for security/run.sh, on loopback only.

  peers.py slowloris --http H:P --ggz H:P --from 127.0.0.66 --count N --seconds S
      Opens N connections to each TCP listener from one address and feeds them one
      byte a second (HTTP headers, GGZ XML, a WebSocket that upgrades then says
      nothing); reports how many the server kept and how soon it cut them, and
      whether a client from another address is served meanwhile.
  peers.py flood --http H:P --ggz H:P --q3 H:P --from 127.0.0.67 --seconds S
      Opens and drops connections as fast as it can, and sends Quake 3 getservers
      queries as fast as it can; reports what was let in and the bytes the server
      sent back per byte received (amplification).

Prints one JSON object; exits 1 when a bound does not hold.
"""

import argparse
import json
import selectors
import socket
import sys
import time

PROBE_FROM = "127.0.0.99"


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def connect(to, frm, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((frm, 0))
    s.connect(to)
    return s


def probe(kind, to):
    """A well-behaved client from another address: seconds to be served, or None."""
    started = time.monotonic()
    try:
        s = connect(to, PROBE_FROM, timeout=5.0)
        if kind == "http":
            s.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            ok = s.recv(12) == b"HTTP/1.1 200"
        elif kind == "ws":
            s.sendall(upgrade_request())
            ok = s.recv(12) == b"HTTP/1.1 101"
        else:
            ok = s.recv(5) == b"<?xml"
        s.close()
        return round(time.monotonic() - started, 4) if ok else None
    except OSError:
        return None


def upgrade_request():
    return (b"GET /api/v1/ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n"
            b"connection: upgrade\r\nsec-websocket-version: 13\r\n"
            b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")


def slowloris(args):
    targets = {"http": addr(args.http), "ggz": addr(args.ggz), "ws": addr(args.http)}
    report = {"count": args.count, "seconds": args.seconds}
    failed = False
    for kind, to in targets.items():
        sel = selectors.DefaultSelector()
        opened = 0
        for _ in range(args.count):
            try:
                s = connect(to, args.frm)
            except OSError:
                continue
            opened += 1
            s.setblocking(False)
            if kind == "ws":
                # A complete upgrade, then silence: a legitimate-looking idle socket.
                s.sendall(upgrade_request())
            sel.register(s, selectors.EVENT_READ, {"closed_at": None})
        started = time.monotonic()
        drip = b"GET / HTTP/1.1\r\nx-a: " if kind == "http" else b"<?xml version='1.0'?>"
        step = 0
        probes = []
        closed = []  # when the server cut each connection it cut, seconds from the start
        while time.monotonic() - started < args.seconds:
            # One byte a second on every connection still open.
            for key in list(sel.get_map().values()):
                if key.data["closed_at"] is None and kind != "ws":
                    try:
                        key.fileobj.send(drip[step % len(drip):step % len(drip) + 1])
                    except OSError:
                        key.data["closed_at"] = time.monotonic() - started
            step += 1
            probes.append(probe(kind, to))
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    if key.data["closed_at"] is not None:
                        continue
                    try:
                        data = key.fileobj.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        key.data["closed_at"] = time.monotonic() - started
                        closed.append(key.data["closed_at"])
                        sel.unregister(key.fileobj)
                        key.fileobj.close()
        keys = list(sel.get_map().values())
        held = sum(1 for k in keys if k.data["closed_at"] is None)
        for k in keys:
            k.fileobj.close()
        served = [p for p in probes if p is not None]
        cut = [t for t in closed if t is not None]
        report[kind] = {
            "opened": opened,
            "held_at_end": held,
            "last_cut_after_s": round(max(cut), 2) if cut else None,
            "probes_served": f"{len(served)}/{len(probes)}",
            "probe_worst_s": max(served) if served else None,
        }
        if held > args.cap or len(served) < len(probes):
            failed = True
        time.sleep(0.5)
    return report, failed


def flood(args):
    report = {"seconds": args.seconds}
    failed = False
    for kind, to in (("http", addr(args.http)), ("ggz", addr(args.ggz))):
        attempts = accepted = 0
        probes = []
        started = time.monotonic()
        next_probe = started
        while time.monotonic() - started < args.seconds:
            attempts += 1
            try:
                s = connect(to, args.frm, timeout=1.0)
                if kind == "http":
                    s.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                if s.recv(1):
                    accepted += 1
                s.close()
            except OSError:
                pass
            if time.monotonic() >= next_probe:
                probes.append(probe(kind, to))
                next_probe += 0.5
        served = [p for p in probes if p is not None]
        report[kind] = {
            "attempts": attempts,
            "let_in": accepted,
            "probes_served": f"{len(served)}/{len(probes)}",
            "probe_worst_s": max(served) if served else None,
        }
        if len(served) < len(probes):
            failed = True
    # Quake 3 getservers from one address: what the server sends back per byte asked.
    q3 = addr(args.q3)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((args.frm, 0))
    u.setblocking(False)
    query = b"\xff\xff\xff\xffgetservers 68 empty full"
    sent = received = 0
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        try:
            u.sendto(query, q3)
            sent += len(query)
        except BlockingIOError:
            pass
        while True:
            try:
                received += len(u.recv(65536))
            except BlockingIOError:
                break
    time.sleep(0.3)
    while True:
        try:
            received += len(u.recv(65536))
        except BlockingIOError:
            break
    ratio = received / sent if sent else 0.0
    report["q3_getservers"] = {
        "bytes_sent": sent,
        "bytes_back": received,
        "bytes_back_per_s": round(received / args.seconds),
        "amplification": round(ratio, 4),
    }
    if ratio > 1.0:
        failed = True
    return report, failed


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["slowloris", "flood"])
    p.add_argument("--http", required=True)
    p.add_argument("--ggz", required=True)
    p.add_argument("--q3")
    p.add_argument("--from", dest="frm", default="127.0.0.66")
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--cap", type=int, default=64, help="the server's per-address limit")
    p.add_argument("--seconds", type=float, default=10)
    args = p.parse_args()
    for a in (args.http, args.ggz, args.q3 or "127.0.0.1:1", args.frm):
        if not a.startswith("127."):
            sys.exit("loopback addresses only")
    report, failed = slowloris(args) if args.mode == "slowloris" else flood(args)
    report["mode"] = args.mode
    report["ok"] = not failed
    print(json.dumps(report))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

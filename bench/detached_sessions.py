#!/usr/bin/env python3
"""Server memory per session, by RSS growth over N sessions on one serve:
  plain     bound, idle;
  live-sm   bound, XEP-0198 enabled with resumption, idle;
  detached  the same, then the TCP connection dropped: the session waits
            for <resume/> (issue 13).

Usage: bench/detached_sessions.py PORT SERVE_PID N MODE [--settle S] [--host H]

Logs in N anonymous sessions one after the other (SASL ANONYMOUS, bind; in
live-sm and detached modes <enable resume='true'/>, whose <enabled/> must
carry an id and resume='true'), keeps them open (plain, live-sm) or resets
each TCP connection right after <enabled/> (detached; RST, as a device
that loses its network, and no TIME_WAIT left), waits --settle
seconds (default 2), and reads the server's VmRSS before and after.
Prints one JSON object on stdout (mode, sessions, rss_before_kib,
rss_after_kib, bytes_per_session, kib_per_session) and a line on stderr.
Use a fresh server for each mode: what an earlier mode left is not freed
into the figures of the next. (Clients on loopback are not rate limited;
elsewhere start serve with --max-connect-rate 0.)

Exit codes: 0 measured; 1 a login or <enable/> failed, or /proc unreadable
(the JSON says why in "error"); 2 usage.
"""
import json
import socket
import struct
import sys
import time

MODES = ("plain", "live-sm", "detached")
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='iot.local' version='1.0'>")


def usage():
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    sys.exit(2)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise OSError(f"no VmRSS in /proc/{pid}/status")


def until(s, needle, buf=b""):
    while needle not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError(f"closed while waiting for {needle!r}: {buf[:200]!r}")
        buf += d
        if b"<stream:error" in buf or b"<failure" in buf or b"<failed" in buf:
            raise ConnectionError(f"refused while waiting for {needle!r}: {buf[:300]!r}")
    return buf


def attr(text, name):
    for q in ("'", '"'):
        k = text.find(f" {name}={q}")
        if k >= 0:
            b = k + len(name) + 3
            return text[b:text.find(q, b)]
    return None


def session(host, port, mode):
    s = socket.create_connection((host, port), timeout=30)
    # Closed with RST (no TIME_WAIT): 10,000 closed client ports in TIME_WAIT
    # made the next server's random listening port collide (bench/run).
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.sendall(HEADER.encode())
    until(s, b"</stream:features>")
    s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>")
    until(s, b"<success")
    s.sendall(HEADER.encode())
    until(s, b"</stream:features>")
    s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    until(s, b"</iq>")
    if mode != "plain":
        s.sendall(b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
        got = until(s, b"<enabled")
        got = until(s, b">", got[got.find(b"<enabled"):]).decode(errors="replace")
        if not attr(got, "id") or attr(got, "resume") not in ("true", "1"):
            raise ConnectionError(f"no resumption offered (serve --resume-window 0?): {got[:200]}")
    if mode == "detached":
        s.close()
        return None
    return s


def main():
    args = sys.argv[1:]
    opts = {"--settle": "2", "--host": "127.0.0.1"}
    pos = []
    while args:
        a = args.pop(0)
        if a in opts and args:
            opts[a] = args.pop(0)
        elif a.startswith("-"):
            usage()
        else:
            pos.append(a)
    if len(pos) != 4 or pos[3] not in MODES:
        usage()
    try:
        port, pid, n, settle = int(pos[0]), int(pos[1]), int(pos[2]), float(opts["--settle"])
    except ValueError:
        usage()
    mode, host = pos[3], opts["--host"]
    out = {"scenario": "detached", "mode": mode, "sessions": n, "settle_s": settle}
    socks = []
    try:
        time.sleep(0.5)
        before = rss_kib(pid)
        t0 = time.monotonic()
        for _ in range(n):
            s = session(host, port, mode)
            if s is not None:
                socks.append(s)
        out["login_seconds"] = round(time.monotonic() - t0, 3)
        time.sleep(settle)
        after = rss_kib(pid)
    except (OSError, ConnectionError) as e:
        out["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(out))
        print(f"detached_sessions: {mode}: {out['error']}", file=sys.stderr)
        sys.exit(1)
    per = (after - before) * 1024 / n if n else 0
    out.update(rss_before_kib=before, rss_after_kib=after, bytes_per_session=round(per, 1),
               kib_per_session=round(per / 1024, 3), open_at_measure=len(socks))
    print(json.dumps(out))
    print(f"detached_sessions: {mode}, {n} sessions: {per:.0f} bytes each (RSS)", file=sys.stderr)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()

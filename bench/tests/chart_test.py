#!/usr/bin/env python3
"""bench/chart on four tiny fixture results (bench/tests/fixture-*.json): every
expected chart is written as a valid PNG (signature, chunk CRCs, IHDR size,
image data that inflates to the size IHDR says and is not blank), gnuplot
printed nothing on stderr, the bars carry the fixture's medians and min-max
over the valid runs only, and an unreadable results file fails with exit 3.
Run by CTest (tests/CMakeLists.txt, bench_chart); exits 1 on the first
failure, with one line saying which."""

import os
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CHART = os.path.join(HERE, "..", "chart")
PNG_SIG = b"\x89PNG\r\n\x1a\n"
BYTES_PER_PIXEL = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type, 8-bit depth


def fail(msg):
    print(f"chart_test: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check_png(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if not data.startswith(PNG_SIG):
        fail(f"{path}: no PNG signature")
    pos, chunks, idat = len(PNG_SIG), [], b""
    while pos < len(data):
        if pos + 8 > len(data):
            fail(f"{path}: truncated chunk header at {pos}")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            fail(f"{path}: truncated {ctype!r} chunk")
        if zlib.crc32(ctype + body) != struct.unpack(">I", crc)[0]:
            fail(f"{path}: bad CRC in {ctype!r} chunk")
        chunks.append(ctype)
        if ctype == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif ctype == b"IDAT":
            idat += body
        pos += 12 + length
    if chunks[0] != b"IHDR" or chunks[-1] != b"IEND" or b"IDAT" not in chunks:
        fail(f"{path}: chunks out of order: {chunks}")
    if (width, height) != (1280, 720):
        fail(f"{path}: {width}x{height}, expected 1280x720")
    if depth != 8 or colour not in BYTES_PER_PIXEL:
        fail(f"{path}: unexpected bit depth {depth} / colour type {colour}")
    pixels = zlib.decompress(idat)
    if len(pixels) != height * (1 + width * BYTES_PER_PIXEL[colour]):
        fail(f"{path}: image data inflates to {len(pixels)} bytes, not {height} rows of {width} pixels")
    if len(set(pixels)) < 16:
        fail(f"{path}: looks blank ({len(set(pixels))} distinct bytes)")


def run_chart(fixture, out):
    p = subprocess.run([sys.executable, CHART, os.path.join(HERE, fixture), "--out-dir", out,
                        "--script-dir", out], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        fail(f"bench/chart {fixture} exited {p.returncode}: {p.stderr.strip()}")
    if p.stderr.strip():
        fail(f"bench/chart {fixture} printed on stderr: {p.stderr.strip()}")
    return p.stdout.split()


def script(out, name):
    with open(os.path.join(out, name + ".gp"), encoding="utf-8") as fh:
        return fh.read()


def expect(text, needle, what):
    if needle not in text:
        fail(f"{what}: {needle!r} not in the gnuplot script")


def main():
    with tempfile.TemporaryDirectory(prefix="chart-test.") as out:
        # A plain + TLS result.
        names = ["ingest", "logins", "idle", "recommend", "framer", "tls-ingest", "tls-logins", "tls-idle"]
        want = [os.path.join(out, f"fixture-results-{n}.png") for n in names]
        got = run_chart("fixture-results.json", out)
        if got != want:
            fail(f"charts written: {got}, expected {want}")
        for p in got:
            check_png(p)
        ingest = script(out, "fixture-results-ingest")
        # iotxmpp SQLite file: runs 150k, 100k, 120k valid, a 4th (999999) invalid.
        expect(ingest, '0.00 120000 100000 150000 "120k\\n(n=3 of 4 runs)"', "ingest median/min/max")
        if "999999" in ingest:
            fail("ingest: the invalid run's value is charted")
        expect(ingest, '"no valid run\\n(0 of 2)"', "ingest: MariaDB's failed runs")
        expect(ingest, '"2,500\\n(1 run)"', "ingest: Prosody's single run")
        expect(ingest, "commit f1x7ure", "ingest: the foot names the commit")
        expect(ingest, "run 2026-01-02 03:04:05 UTC", "ingest: the foot names the run's time")
        expect(ingest, "Fixture CPU, 2 cores", "ingest: the foot names the machine")
        expect(ingest, 'set ylabel "reports per second', "ingest: y axis unit")
        expect(script(out, "fixture-results-logins"), "10000 with lines", "logins: the 10,000/s goal")

        # An A/B result.
        want = [os.path.join(out, f"fixture-ab-{n}.png") for n in ["ingest", "logins", "idle", "recommend", "framer"]]
        got = run_chart("fixture-ab.json", out)
        if got != want:
            fail(f"A/B charts written: {got}, expected {want}")
        for p in got:
            check_png(p)
        ab = script(out, "fixture-ab-ingest")
        # base 100k/90k/95k -> 95k; new 110k/105k/115k -> 110k; 110/95 = 1.16
        expect(ab, '95000 90000 100000 "95.0k\\n(n=3)"', "A/B ingest baseline")
        expect(ab, '110000 105000 115000 "110k\\n(n=3)\\n1.16 × base"', "A/B ingest new with ratio")
        expect(ab, "uncommitted changes", "A/B: the new build's uncommitted changes are named")

        # An XEP-0198 result (bench/run --only sm; fixture-sm.json was written by
        # bench/summarize.jq from hand-made raw records).
        want = [os.path.join(out, f"fixture-sm-{n}.png") for n in ["ingest", "resume", "sessions"]]
        got = run_chart("fixture-sm.json", out)
        if got != want:
            fail(f"SM charts written: {got}, expected {want}")
        for p in got:
            check_png(p)
        sm = script(out, "fixture-sm-ingest")
        # SQLite file: ping 100k/110k/90k -> 100k; SM 95k/97k/99k -> 97k; 0.97 x ping
        expect(sm, '100000 90000 110000 "100k\\n(n=3)"', "SM ingest: the ping barrier")
        expect(sm, '97000 95000 99000 "97.0k\\n(n=3)\\n0.97 × ping"', "SM ingest: SM with its ratio")
        expect(sm, '"no valid run\\n(0 of 1)"', "SM ingest: MariaDB's invalid SM run")
        expect(script(out, "fixture-sm-resume"), '8500 8000 9000 "8,500\\n(n=2)\\n0.77 × login"',
               "resume: resumes/s with its ratio to logins/s")
        expect(script(out, "fixture-sm-sessions"), '1500 1500 1500 "1,500\\n(1 run)\\n1.50 × plain"',
               "sessions: detached bytes with the ratio to plain")

        # A nodes result (bench/run --only nodes; fixture-nodes.json was written by
        # bench/nodes_bench.py summarize from hand-made raw records).
        want = [os.path.join(out, f"fixture-nodes-{n}.png") for n in ["ingest", "cpu", "idle", "feed"]]
        got = run_chart("fixture-nodes.json", out)
        if got != want:
            fail(f"nodes charts written: {got}, expected {want}")
        for p in got:
            check_png(p)
        nodes = script(out, "fixture-nodes-ingest")
        # 1 node 40k/42k/38k -> 40k; 2 nodes 36k/34k/35k -> 35k (a 4th, 999999, invalid); 35/40 = 0.88
        expect(nodes, '0.00 40000 38000 42000 "40.0k\\n(n=3)"', "nodes ingest: 1 node")
        expect(nodes, '1.00 35000 34000 36000 "35.0k\\n(n=3 of 4 runs)\\n0.88 × 1 node"',
               "nodes ingest: 2 nodes with the ratio")
        if "999999" in nodes:
            fail("nodes ingest: the invalid run's value is charted")
        expect(script(out, "fixture-nodes-feed"), '2.00 130 128 140 "130\\n(n=3)"',
               "nodes feed: the cross-node p50")

        # Not a result: exit 3 and one line on stderr, no chart.
        for bad in [os.path.join(out, "missing.json"), os.path.join(out, "empty.json")]:
            if bad.endswith("empty.json"):
                with open(bad, "w") as fh:
                    fh.write("{}\n")
            p = subprocess.run([sys.executable, CHART, bad, "--out-dir", out], capture_output=True, text=True)
            if p.returncode != 3 or len(p.stderr.strip().splitlines()) != 1 or p.stdout:
                fail(f"bench/chart {bad}: exit {p.returncode}, stderr {p.stderr!r}, stdout {p.stdout!r}")
    print("chart_test: 20 charts checked, A/B, plain, XEP-0198 and nodes figures as in the fixtures")


if __name__ == "__main__":
    main()

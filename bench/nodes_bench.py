#!/usr/bin/env python3
"""bench/nodes_bench.py: the helpers of `bench/run --only nodes` (issue 14).

    nodes_bench.py stamp OUT.json COUNT-FILE -- iotxmpp tail --server H:P --json
        Runs the `tail --json` command, stamps every line with the time it was
        read, and on the command's end (SIGTERM to this process ends it) writes
        OUT.json: the report events (distinct and duplicate) and, as
        p50/p90/p99/max in ms, their latency: the time read - the line's `at`,
        the report's own timestamp (`simulate` stamps each report when it
        builds it, on this machine's clock), so send, acceptance, commit, the
        feed (across nodes: the poll) and tail; and, as a check of the
        stamping, the time read - `received`, which `tail` sets to its own
        clock when it parses the event (not the server's time of acceptance:
        the feed's stanzas carry none), i.e. the pipe to this reader.
        COUNT-FILE holds the distinct report events so far (rewritten on every
        one), for bench/run to wait on.

    nodes_bench.py summarize RAW.jsonl META.json OUT.json OUT.md
        The raw records of a nodes run into medians (min-max) per figure for
        1 node and 2 nodes, the 2-node/1-node ratio of the medians and of each
        repetition's pair, and the markdown table (also printed).

Python 3 standard library only.
"""

import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime


def pct(sorted_vals, p):
    """The p-th percentile (nearest rank) of sorted values; None if empty."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p / 100 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def latency(vals):
    s = sorted(vals)
    return {"n": len(s), "p50_ms": pct(s, 50), "p90_ms": pct(s, 90), "p99_ms": pct(s, 99),
            "max_ms": s[-1] if s else None, "min_ms": s[0] if s else None}


def stamp(out_path, count_path, cmd):
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, bufsize=0)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    signal.signal(signal.SIGINT, lambda *_: child.terminate())
    seen = set()
    dup = presences = bad = 0
    lat_received, lat_at = [], []
    first = last = None
    buf = b""
    while True:
        chunk = child.stdout.read(65536)
        if not chunk:
            break
        now = time.time()
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            try:
                ev = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if ev.get("type") != "report":
                presences += 1
                continue
            key = (ev.get("from"), ev.get("id"))
            if key in seen:
                dup += 1
                continue
            seen.add(key)
            first = first if first is not None else now
            last = now
            try:
                lat_received.append((now - datetime.fromisoformat(ev["received"]).timestamp()) * 1e3)
                lat_at.append((now - datetime.fromisoformat(ev["at"]).timestamp()) * 1e3)
            except (KeyError, ValueError):
                bad += 1
        with open(count_path, "w") as f:
            f.write(f"{len(seen)}\n")
    rc = child.wait()
    out = {"events": len(seen), "duplicates": dup, "presences": presences, "unreadable": bad,
           "tail_exit": rc, "span_s": (last - first) if first is not None else 0,
           "latency": latency(lat_at), "tail_to_reader": latency(lat_received)}
    for k in ("p50_ms", "p99_ms", "max_ms"):  # flat, for bench/chart
        out["latency_" + k] = out["latency"][k]
    with open(out_path, "w") as f:
        json.dump(out, f)
        f.write("\n")


# --- summary ---------------------------------------------------------------------

def stats(vals):
    vals = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def get(rec, path):
    for k in path.split("."):
        if not isinstance(rec, dict):
            return None
        rec = rec.get(k)
    return rec


# (figure, label, selector, metric path, unit, lower is better)
FIGURES = [
    ("durable ingest, reports/s stored (rows counted)", "nodes ingest", None, "stored_per_s", "reports/s", False),
    ("serve CPU per 1,000 reports, all nodes", "nodes ingest", None, "serve_cpu_ms_per_1000", "ms", True),
    ("MariaDB CPU per 1,000 reports", "nodes ingest", None, "db_cpu_ms_per_1000", "ms", True),
    ("idle: database statements/s, all nodes", "nodes idle", None, "statements_per_s", "1/s", True),
    ("idle: database statements/s per node", "nodes idle", None, "statements_per_s_per_node", "1/s", True),
    ("idle: statements/s of node-a alone (its own database user, MariaDB USER_STATISTICS)",
     "nodes idle", None, "node_a_statements_per_s", "1/s", True),
    ("feed: database statements/s, all nodes, while the last node takes 1 report/s per device",
     "nodes feed", None, "statements_per_s", "1/s", True),
    ("feed: statements/s of the node taking the reports (USER_STATISTICS)",
     "nodes feed", None, "busy_node_statements_per_s", "1/s", True),
    ("feed: statements/s of the other node (node-a, a `tail` following the busy node-b)",
     "nodes feed", None, "other_node_statements_per_s", "1/s", True),
    ("feed latency p50, subscriber on the reporting node (local)", "nodes feed local", None, "latency.p50_ms", "ms", True),
    ("feed latency p99, local", "nodes feed local", None, "latency.p99_ms", "ms", True),
    ("feed latency max, local", "nodes feed local", None, "latency.max_ms", "ms", True),
    ("feed latency p50, subscriber on the other node (cross-node)", "nodes feed cross", None, "latency.p50_ms", "ms", True),
    ("feed latency p99, cross-node", "nodes feed cross", None, "latency.p99_ms", "ms", True),
    ("feed latency max, cross-node", "nodes feed cross", None, "latency.max_ms", "ms", True),
]


def summarize(raw_path, meta_path, out_json, out_md):
    raw = [json.loads(l) for l in open(raw_path) if l.strip()]
    meta = json.load(open(meta_path))
    figures = []
    for name, label, _, metric, unit, lower in FIGURES:
        recs = [r for r in raw if r.get("label") == label]
        if not recs:
            continue
        by_n = {}
        for n in (1, 2):
            by_n[n] = stats([get(r, metric) for r in recs if r.get("nodes") == n and r.get("valid")])
            # runs that measured this (a figure that does not apply to n nodes is null)
            by_n[n]["runs"] = sum(1 for r in recs if r.get("nodes") == n
                                  and (get(r, metric) is not None or not r.get("valid")))
        pairs = []
        for run in sorted({r["run"] for r in recs}):
            one = [get(r, metric) for r in recs if r["run"] == run and r.get("nodes") == 1 and r.get("valid")]
            two = [get(r, metric) for r in recs if r["run"] == run and r.get("nodes") == 2 and r.get("valid")]
            if one and two:
                pairs.append({"run": run, "one": one[0], "two": two[0], "ratio": ratio(two[0], one[0])})
        figures.append({"figure": name, "label": label, "metric": metric, "unit": unit,
                        "lower_is_better": lower, "one": by_n[1], "two": by_n[2],
                        "ratio": ratio(by_n[2]["median"], by_n[1]["median"]),
                        "pairs": pairs,
                        "invalid_runs": sum(1 for r in recs if not r.get("valid"))})
    feeds = [r for r in raw if r.get("label", "").startswith("nodes feed ")]
    delivery = []
    for label in ("nodes feed local", "nodes feed cross"):
        for n in (1, 2):
            rs = [r for r in feeds if r["label"] == label and r.get("nodes") == n]
            if rs:
                delivery.append({"label": label, "nodes": n,
                                 "events": sum(r.get("events", 0) for r in rs),
                                 "stored": sum(r.get("stored", 0) for r in rs),
                                 "duplicates": sum(r.get("duplicates", 0) for r in rs),
                                 "runs": len(rs)})
    loads = [r["load"] for r in raw if isinstance(r.get("load"), list)]
    result = dict(meta)
    result.update({
        "figures": figures,
        "feed_delivery": delivery,
        "load_during_run": {"samples": len(loads),
                            "load1_min": min((l[0] for l in loads), default=None),
                            "load1_max": max((l[0] for l in loads), default=None),
                            "load1_median": statistics.median([l[0] for l in loads]) if loads else None},
        "invalid": [{k: r.get(k) for k in ("label", "nodes", "run", "error")} for r in raw if not r.get("valid")],
        "raw": raw,
    })
    with open(out_json, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    md = table(result)
    with open(out_md, "w") as f:
        f.write(md)
    sys.stdout.write(md)


def num(v):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(s):
    if s.get("runs") == 0:
        return "–"
    if s["n"] == 0:
        return "no valid run"
    if s["n"] == 1:
        return f"{num(s['median'])} (1 run)"
    return f"{num(s['median'])} ({num(s['min'])}–{num(s['max'])})"


def table(r):
    s, m = r["settings"], r["machine"]
    lines = [
        f"## iotxmpp: 1 serve node against 2 over one MariaDB, {r['date']} (commit {r['commit']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['kernel']}. "
        f"Load average (1 min) during the run: {num(r['load_during_run']['load1_min'])}–"
        f"{num(r['load_during_run']['load1_max'])} (median {num(r['load_during_run']['load1_median'])}, "
        f"sampled at the end of each phase; other work shares this machine).",
        f"Each cell: median (min–max) of {s['runs']} repetition(s); {s['order']}.",
        f"Ingest: {s['ingest_conns']} connections × {s['ingest_reports_per_conn']} reports "
        f"({s['ingest_conns'] * s['ingest_reports_per_conn']:,} per run), one generator, "
        f"connection i to node i mod n; stored rows counted in the database; a fresh database per "
        f"configuration and repetition. Idle: `SHOW GLOBAL STATUS LIKE 'Questions'` over {s['idle_seconds']} s. "
        f"Feed: `simulate --count {s['feed_devices']} --interval 1s --duration {s['feed_seconds']}s` on the "
        f"last node, `tail --json` on it (local) and, with 2 nodes, on the other (cross-node); latency = "
        f"time the line was read − the report's `at` (stamped by `simulate` as it builds the report, same clock)."
        + (" (--quick counts)" if s["quick"] else ""),
        "",
        "| figure | 1 node | 2 nodes | 2 / 1 (medians) | 2 / 1 per repetition |",
        "|---|---|---|---|---|",
    ]
    for f in r["figures"]:
        pr = ", ".join(num(p["ratio"]) for p in f["pairs"]) or "–"
        rt = num(f["ratio"]) if f["ratio"] is not None else "–"
        lines.append(f"| {f['figure']} ({f['unit']}) | {cell(f['one'])} | {cell(f['two'])} | {rt} | {pr} |")
    lines += ["", "| feed subscriber | nodes | report events delivered | reports stored | duplicates |",
              "|---|---|---|---|---|"]
    for d in r["feed_delivery"]:
        where = "local (on the reporting node)" if d["label"].endswith("local") else "cross-node (on the other node)"
        lines.append(f"| {where} | {d['nodes']} | {d['events']:,} | {d['stored']:,} | {d['duplicates']} |")
    if r["invalid"]:
        lines += ["", "Invalid runs (left out): " + ", ".join(
            f"{i['label']} ({i['nodes']} node(s)) run {i['run']}: {i['error']}" for i in r["invalid"])]
    lines += ["", f"serve logs (--log-level warn, so every line is a warning or an error): "
              f"{r.get('log_lines', 0)} line(s) over the run"
              + (":" if r.get("log_summary", "").strip() else ".")]
    if r.get("log_summary", "").strip():
        lines += ["", "```", r["log_summary"].rstrip(), "```"]
    lines += ["", "Stream errors counted by the nodes' metrics (iotxmpp_stream_errors_total > 0, "
              "read at the end of each configuration): "
              + ("none." if not r.get("stream_errors", "").strip() else "")]
    if r.get("stream_errors", "").strip():
        lines += ["", "```", r["stream_errors"].rstrip(), "```"]
    lines += ["", f"Command: `{s['command']}`", ""]
    return "\n".join(lines)


def main(argv):
    if len(argv) >= 5 and argv[1] == "stamp" and argv[4] == "--":
        stamp(argv[2], argv[3], argv[5:])
        return 0
    if len(argv) == 6 and argv[1] == "summarize":
        summarize(*argv[2:6])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

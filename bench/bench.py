#!/usr/bin/env python3
"""Helpers for bench/run.sh (standard library only).

Subcommands:
  free-port                 print a free TCP port on 127.0.0.1
  parse wrk|oha FILE        parse one load-generator output; prints
                            "requests rps p50_ms p99_ms non2xx errors bytes_per_req"
                            (wrk: response bytes incl. headers; oha: body only)
  rss PID                   print VmRSS and VmHWM of PID in MiB
  cpu-ticks PID             print utime+stime of PID in clock ticks
  tree-pids PID             print PID and all its live descendants, one a line
  tree-rss PID              print the summed VmRSS (MiB) of PID and its live
                            descendants, and how many processes that is
  tree-cpu-ticks PID        print utime+stime summed over PID and its live
                            descendants, in clock ticks
  report RAW OUT_TSV        print the results table and the ratios for the
                            raw point file written by run.sh, and write the
                            long-format TSV to OUT_TSV
"""

import json
import os
import socket
import sys

# Targets (see bench/README.md).
GOAL_RPS_RATIO_C64 = 0.45
GOAL_ADDED_P50_C1_MS = 0.2
GOAL_IDLE_RSS_MIB = 30.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def parse_wrk(text):
    m = None
    for line in text.splitlines():
        if line.startswith("BENCH_RESULT "):
            m = json.loads(line[len("BENCH_RESULT "):])
    if m is None:
        raise SystemExit("bench.py: no BENCH_RESULT line in wrk output:\n" + text)
    secs = m["duration_us"] / 1e6
    rps = m["requests"] / secs if secs > 0 else 0.0
    errors = m["err_connect"] + m["err_read"] + m["err_write"] + m["err_timeout"]
    # wrk counts responses with status >= 400 in errors.status.
    bpr = m["bytes"] / m["requests"] if m["requests"] else 0.0
    return (m["requests"], rps, m["p50_us"] / 1000.0, m["p99_us"] / 1000.0, m["err_status"],
            errors, bpr)


def parse_oha(text):
    # oha may print non-JSON lines before the JSON document; take the object.
    start = text.find("{")
    if start < 0:
        raise SystemExit("bench.py: no JSON in oha output:\n" + text)
    d = json.loads(text[start:])
    s = d["summary"]
    lat = d.get("latencyPercentiles") or {}
    codes = d.get("statusCodeDistribution") or {}
    errs = d.get("errorDistribution") or {}
    ok = sum(n for code, n in codes.items() if str(code).startswith("2"))
    non2xx = sum(n for code, n in codes.items() if not str(code).startswith("2"))
    # "aborted due to deadline" is oha's accounting of in-flight requests at
    # the end without -w; it is not a server error.
    errors = sum(n for k, n in errs.items() if "deadline" not in k)
    p50 = (lat.get("p50") or 0.0) * 1000.0
    p99 = (lat.get("p99") or 0.0) * 1000.0
    requests = ok + non2xx
    return (requests, s.get("requestsPerSec") or 0.0, p50, p99, non2xx, errors,
            s.get("sizePerRequest") or 0.0)


def parse(kind, path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if kind == "wrk":
        r = parse_wrk(text)
    elif kind == "oha":
        r = parse_oha(text)
    else:
        raise SystemExit(f"bench.py: unknown load generator {kind}")
    print(f"{r[0]} {r[1]:.2f} {r[2]:.3f} {r[3]:.3f} {r[4]} {r[5]} {r[6]:.0f}")


def rss(pid):
    vals = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                vals[k] = int(v.split()[0]) / 1024.0  # kB -> MiB
    print(f"{vals.get('VmRSS', 0.0):.2f} {vals.get('VmHWM', 0.0):.2f}")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        stat = f.read()
    # Fields after the ")" that closes comm; utime and stime are fields 14/15.
    rest = stat[stat.rindex(")") + 2:].split()
    print(int(rest[11]) + int(rest[12]))


def _children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue  # exited meanwhile
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def tree(pid):
    """PID and its live descendants (breadth first)."""
    kids = _children_map()
    out, todo = [], [int(pid)]
    while todo:
        p = todo.pop(0)
        if p in out:
            continue
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def tree_rss(pid):
    total, n = 0, 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        n += 1
        except OSError:
            pass
    print(f"{total / 1024.0:.2f} {n}")


def tree_cpu_ticks(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        total += int(rest[11]) + int(rest[12])
    print(total)


# ---------------------------------------------------------------- report


def fnum(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def status(ok):
    if ok is None:
        return "n/a"
    return "met" if ok else "NOT met"


def report(raw_path, out_path):
    meta = {}
    points = []  # dicts
    with open(raw_path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if not parts or not parts[0]:
                continue
            if parts[0] == "meta":
                meta[parts[1]] = parts[2]
            elif parts[0] == "point":
                (_, mode, target, c, requests, rps, p50, p99, non2xx, errors,
                 bpr, cpu_gw, cpu_mock) = parts
                points.append({
                    "mode": mode, "target": target, "c": int(c),
                    "requests": int(requests), "rps": float(rps),
                    "p50": float(p50), "p99": float(p99),
                    "non2xx": int(non2xx), "errors": int(errors), "bpr": float(bpr),
                    "cpu_gw": None if cpu_gw == "-" else float(cpu_gw),
                    "cpu_mock": None if cpu_mock == "-" else float(cpu_mock),
                })

    rows = []  # long-format TSV rows

    def row(section, mode, c, target, metric, value, goal="-", st="-"):
        rows.append([section, mode, str(c), target, metric,
                     value if isinstance(value, str) else f"{value:.3f}", goal, st])

    for k in sorted(meta):
        row("meta", "-", "-", "-", k, meta[k])

    print()
    print(f"Junction benchmark  (load generator: {meta.get('loadgen', '?')}, "
          f"{meta.get('duration_s', '?')} s per point, warm-up {meta.get('warmup_s', '?')} s, "
          f"{meta.get('cpus', '?')} CPUs)")
    if "litellm_version" in meta:
        print(f"LiteLLM {meta['litellm_version']} side by side: 1 worker, "
              f"{meta.get('litellm_python', 'python ?')}; its rows' gw cpu column is the "
              f"LiteLLM process tree")
    print()
    hdr = (f"{'mode':<6} {'C':>4} {'target':<8} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} "
           f"{'requests':>9} {'non2xx':>7} {'errors':>7} {'B/resp':>7} {'gw cpu us/req':>14} {'mock cpu us/req':>16}")
    print(hdr)
    print("-" * len(hdr))
    for p in points:
        print(f"{p['mode']:<6} {p['c']:>4} {p['target']:<8} {p['rps']:>10.1f} {p['p50']:>9.3f} "
              f"{p['p99']:>9.3f} {p['requests']:>9} {p['non2xx']:>7} {p['errors']:>7} {p['bpr']:>7.0f} "
              f"{fnum(p['cpu_gw'], 1):>14} {fnum(p['cpu_mock'], 1):>16}")
        for metric in ("rps", "p50", "p99", "requests", "non2xx", "errors", "bpr", "cpu_gw",
                       "cpu_mock"):
            v = p[metric]
            name = {"p50": "p50_ms", "p99": "p99_ms",
                    "cpu_gw": ("litellm_cpu_us_per_req" if p["target"] == "litellm"
                               else "junction_cpu_us_per_req"),
                    "cpu_mock": "mock_cpu_us_per_req",
                    "bpr": "bytes_per_response"}.get(metric, metric)
            row("point", p["mode"], p["c"], p["target"], name,
                "-" if v is None else (str(v) if isinstance(v, int) else f"{v:.3f}"))

    # Ratios per (mode, C).
    by = {}
    for p in points:
        by.setdefault((p["mode"], p["c"]), {})[p["target"]] = p
    print()
    print("Gateway vs direct")
    hdr2 = f"{'mode':<6} {'C':>4} {'gw/direct req/s':>16} {'added p50 ms':>13} {'added p99 ms':>13}"
    print(hdr2)
    print("-" * len(hdr2))
    ratio_c64 = None
    added_p50_c1 = None
    for (mode, c), d in sorted(by.items(), key=lambda kv: (kv[0][0] != "json", kv[0][1])):
        if "direct" not in d or "gateway" not in d:
            continue
        dr, gw = d["direct"], d["gateway"]
        ratio = gw["rps"] / dr["rps"] if dr["rps"] > 0 else None
        add50 = gw["p50"] - dr["p50"]
        add99 = gw["p99"] - dr["p99"]
        print(f"{mode:<6} {c:>4} {fnum(None if ratio is None else ratio * 100, 1) + ' %':>16} "
              f"{add50:>13.3f} {add99:>13.3f}")
        row("ratio", mode, c, "-", "gateway_over_direct_rps", "-" if ratio is None else f"{ratio:.4f}")
        row("ratio", mode, c, "-", "added_p50_ms", add50)
        row("ratio", mode, c, "-", "added_p99_ms", add99)
        if mode == "json" and c == 64:
            ratio_c64 = ratio
        if mode == "json" and c == 1:
            added_p50_c1 = add50

    # Junction vs LiteLLM per (mode, C), when LITELLM=1 added litellm rows.
    if any("litellm" in d for d in by.values()):
        print()
        print("Junction vs LiteLLM (same mock, body, load generator and duration)")
        hdr3 = (f"{'mode':<6} {'C':>4} {'junction req/s':>15} {'litellm req/s':>14} "
                f"{'jn/ll req/s':>12} {'junction p50':>13} {'litellm p50':>12} {'jn/ll p50':>10} "
                f"{'ll added p50':>13}")
        print(hdr3)
        print("-" * len(hdr3))
        for (mode, c), d in sorted(by.items(), key=lambda kv: (kv[0][0] != "json", kv[0][1])):
            if "gateway" not in d or "litellm" not in d:
                continue
            gw, ll = d["gateway"], d["litellm"]
            r_rps = gw["rps"] / ll["rps"] if ll["rps"] > 0 else None
            r_p50 = gw["p50"] / ll["p50"] if ll["p50"] > 0 else None
            ll_add = ll["p50"] - d["direct"]["p50"] if "direct" in d else None
            print(f"{mode:<6} {c:>4} {gw['rps']:>15.1f} {ll['rps']:>14.1f} "
                  f"{fnum(r_rps, 1) + ' x':>12} {gw['p50']:>10.3f} ms {ll['p50']:>9.3f} ms "
                  f"{fnum(r_p50, 4):>10} {fnum(ll_add, 3) + ' ms':>13}")
            row("ratio", mode, c, "-", "junction_over_litellm_rps",
                "-" if r_rps is None else f"{r_rps:.4f}")
            row("ratio", mode, c, "-", "junction_over_litellm_p50",
                "-" if r_p50 is None else f"{r_p50:.6f}")
            if ll_add is not None:
                row("ratio", mode, c, "-", "litellm_added_p50_ms", ll_add)
        print("(jn/ll req/s: junction's throughput as a multiple of LiteLLM's; jn/ll p50: "
              "junction's median latency as a fraction of LiteLLM's; ll added p50: litellm p50 - direct p50)")

    idle = float(meta["idle_rss_mib"]) if "idle_rss_mib" in meta else None
    after = float(meta["after_rss_mib"]) if "after_rss_mib" in meta else None
    hwm = float(meta["after_hwm_mib"]) if "after_hwm_mib" in meta else None

    print()
    print("Targets")
    t_ratio = None if ratio_c64 is None else ratio_c64 >= GOAL_RPS_RATIO_C64
    t_p50 = None if added_p50_c1 is None else added_p50_c1 <= GOAL_ADDED_P50_C1_MS
    t_rss = None if idle is None else idle <= GOAL_IDLE_RSS_MIB
    lines = [
        ("gateway/direct req/s at C=64",
         "-" if ratio_c64 is None else f"{ratio_c64 * 100:.1f} %",
         f">= {GOAL_RPS_RATIO_C64 * 100:.0f} %", t_ratio),
        ("added p50 latency at C=1",
         "-" if added_p50_c1 is None else f"{added_p50_c1:.3f} ms",
         f"<= {GOAL_ADDED_P50_C1_MS} ms", t_p50),
        ("junction idle RSS",
         "-" if idle is None else f"{idle:.1f} MiB",
         f"<= {GOAL_IDLE_RSS_MIB:.0f} MiB", t_rss),
    ]
    for name, val, goal, ok in lines:
        print(f"  {name:<32} {val:>12}   target {goal:<10} {status(ok)}")
    print(f"  {'junction RSS after load':<32} {fnum(after, 1) + ' MiB':>12}   "
          f"(peak VmHWM {fnum(hwm, 1)} MiB; no target)")
    if "litellm_idle_rss_mib" in meta:
        ll_idle = float(meta["litellm_idle_rss_mib"])
        ll_after = meta.get("litellm_after_rss_mib")
        nproc = meta.get("litellm_idle_procs", "?")
        print(f"  {'litellm idle RSS':<32} {ll_idle:>8.1f} MiB   "
              f"({nproc} process(es); junction {fnum(idle, 1)} MiB"
              + (f", {ll_idle / idle:.0f}x junction's" if idle else "") + ")")
        if ll_after is not None:
            print(f"  {'litellm RSS after load':<32} {float(ll_after):>8.1f} MiB   "
                  f"(junction {fnum(after, 1)} MiB)")
        row("rss", "-", "-", "litellm", "idle_rss_mib", ll_idle)
        if ll_after is not None:
            row("rss", "-", "-", "litellm", "after_load_rss_mib", float(ll_after))
    row("target", "json", 64, "-", "gateway_over_direct_rps",
        "-" if ratio_c64 is None else f"{ratio_c64:.4f}", f">={GOAL_RPS_RATIO_C64}", status(t_ratio))
    row("target", "json", 1, "-", "added_p50_ms",
        "-" if added_p50_c1 is None else f"{added_p50_c1:.3f}",
        f"<={GOAL_ADDED_P50_C1_MS}", status(t_p50))
    row("target", "-", "-", "gateway", "idle_rss_mib",
        "-" if idle is None else f"{idle:.2f}", f"<={GOAL_IDLE_RSS_MIB}", status(t_rss))
    row("rss", "-", "-", "gateway", "after_load_rss_mib", "-" if after is None else f"{after:.2f}")
    row("rss", "-", "-", "gateway", "after_load_hwm_mib", "-" if hwm is None else f"{hwm:.2f}")

    bad = [p for p in points if p["non2xx"] or p["errors"]]
    if bad:
        print()
        print("WARNING: some points had non-2xx responses or socket errors:")
        for p in bad:
            print(f"  {p['mode']} C={p['c']} {p['target']}: non2xx={p['non2xx']} errors={p['errors']}")

    os.makedirs(os.path.dirname(out_path) or ".", exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("section\tmode\tconcurrency\ttarget\tmetric\tvalue\tgoal\tstatus\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print()
    print(f"Results written to {out_path}")


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd = argv[1]
    if cmd == "free-port":
        free_port()
    elif cmd == "parse" and len(argv) == 4:
        parse(argv[2], argv[3])
    elif cmd == "rss" and len(argv) == 3:
        rss(argv[2])
    elif cmd == "cpu-ticks" and len(argv) == 3:
        cpu_ticks(argv[2])
    elif cmd == "tree-pids" and len(argv) == 3:
        for p in tree(argv[2]):
            print(p)
    elif cmd == "tree-rss" and len(argv) == 3:
        tree_rss(argv[2])
    elif cmd == "tree-cpu-ticks" and len(argv) == 3:
        tree_cpu_ticks(argv[2])
    elif cmd == "report" and len(argv) == 4:
        report(argv[2], argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

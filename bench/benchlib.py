"""Helpers the Python bench drivers share (mcp_bench.py, responses_bench.py).

The drivers append one JSON record per line to a raw file while they measure, then turn it
into a report and a TSV in the long format of bench/run.sh
(section, mode, concurrency, target, metric, value, goal, status).
"""

import http.client
import json
import os
import urllib.parse

TSV_HEADER = "section\tmode\tconcurrency\ttarget\tmetric\tvalue\tgoal\tstatus\n"


def append(raw, rec):
    with open(raw, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec) + "\n")


def cmd_meta(raw, key, value):
    append(raw, {"kind": "meta", "key": key, "value": value})


def pct(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def parse_pids(arg):
    """`name=pid,name=pid` (or `-`) → {name: pid}."""
    out = {}
    if arg and arg != "-":
        for part in arg.split(","):
            name, pid = part.split("=", 1)
            out[name] = int(pid)
    return out


def status(ok):
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def write_tsv(out_tsv, rows):
    os.makedirs(os.path.dirname(out_tsv) or ".", exist_ok=True)
    with open(out_tsv, "w", encoding="utf-8") as f:
        f.write(TSV_HEADER)
        for r in rows:
            f.write("\t".join(r) + "\n")
    print()
    print(f"Results written to {out_tsv}")


class Conn:
    """One keep-alive HTTP/1.1 connection (stdlib http.client)."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.prefix = u.path.rstrip("/")
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

    def post(self, path, body, headers):
        """POST; returns (status, content-type, response, body read to its last byte)."""
        self.conn.request("POST", self.prefix + path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, resp.getheader("content-type") or "", resp, data

    def close(self):
        self.conn.close()

"""Trims a compare.sh raw/ folder into a small fixture for collate's snapshot tests.

Usage: python3 trim.py RAW DEST KEEP (KEEP: the tasks kept per report; the faults' are kept whole,
since they show which tasks fail). Only workloads/fetch.json of the workloads is kept: collate reads
no other; the .stderr files are left out.
"""
import json, os, sys, shutil
src, dst, keep = sys.argv[1], sys.argv[2], int(sys.argv[3])
for root, dirs, files in os.walk(src):
    rel = os.path.relpath(root, src)
    os.makedirs(os.path.join(dst, rel), exist_ok=True)
    for f in files:
        s, d = os.path.join(root, f), os.path.join(dst, rel, f)
        if f.endswith(".stderr"):
            continue
        if rel == "workloads" and f != "fetch.json":
            continue
        if f == "collate-args":
            continue
        if not f.endswith(".json") or rel == "workloads":
            shutil.copy(s, d); continue
        r = json.load(open(s))
        if isinstance(r, dict) and isinstance(r.get("tasks"), list) and len(r["tasks"]) > keep and rel != "faults":
            r["tasks"] = r["tasks"][:keep]
            c = r.get("counts")
            if isinstance(c, dict):
                for k in c: c[k] = 0
                for t in r["tasks"]:
                    key = {"ok": "ok", "failed": "failed", "timed_out": "timed_out"}.get(t.get("status"), "not_run")
                    c[key] += 1
        json.dump(r, open(d, "w"), separators=(",", ":"))

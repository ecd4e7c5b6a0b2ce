#!/usr/bin/env python3
"""One timed scan by a peer engine (DuckDB read_json, Polars scan_ndjson) over the same
shards pick scans; prints a JSON measurement line like `pick bench query`."""
import argparse
import json
import os
import time


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def duckdb_run(pattern, query, field):
    import duckdb

    con = duckdb.connect()
    src = f"read_json('{pattern}', format='newline_delimited', compression='zstd')"
    if query == "count(*)":
        sql = f"SELECT count(*) FROM {src}"
    elif query == "filter nested":
        sql = f"SELECT count(*) FROM {src} t WHERE t.{field} >= 4"
    else:
        sql = f"SELECT t.{field} AS k, count(*) AS n FROM {src} t GROUP BY 1"
    return con.execute(sql).fetchall()


def polars_run(pattern, query, field):
    import polars as pl

    lf = pl.scan_ndjson(pattern)
    parts = field.split(".")
    col = pl.col(parts[0])
    for p in parts[1:]:
        col = col.struct.field(p)
    if query == "count(*)":
        df = lf.select(pl.len()).collect()
    elif query == "filter nested":
        df = lf.filter(col >= 4).select(pl.len()).collect()
    else:
        df = lf.group_by(col.alias("k")).agg(pl.len().alias("n")).collect()
    return [tuple(r) for r in df.rows()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", choices=["duckdb", "polars"], required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--field", required=True)
    args = ap.parse_args()
    pattern = os.path.join(args.dir, "**", "*.jsonl.zst")
    start = time.perf_counter()
    rows = (duckdb_run if args.engine == "duckdb" else polars_run)(pattern, args.query, args.field)
    seconds = time.perf_counter() - start
    result = ";".join(sorted("|".join("NULL" if v is None else str(v) for v in r) for r in rows))
    print(json.dumps({"seconds": seconds, "peak_rss": peak_rss(), "result": result}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The worklog's flows end to end, pick against bonepick 0.5.0, same corpus, same run.

Runs every step of the worklog's General Quality and Code Quality flows with pick and with
bonepick, with the same flags on the same inputs, and prints one Markdown row per step (wall
seconds, peak RSS of the largest process by GNU time's %M, ratio bonepick/pick) plus a total,
and a check of each step's output against bonepick's. benches/worklog.sh builds the corpus and
the venvs and calls this; see its header for what each step reads and why.

    python3 scripts/worklog_bench.py --pick PICK --bonepick VENV/bin/bonepick \
        --bonepick-datasets VENV2/bin/bonepick --bonepick-m2v VENV3/bin/bonepick \
        --snapshot DIR_WITH_train_AND_test --work /tmp/worklog-bench --json out.json

Input chaining. Each step names its input as `own` (each tool reads its own output of the
earlier step: two independent pipelines) or `bonepick` (both tools read bonepick's output of
the earlier step). `own` is used up to and including reshard, whose inputs hold the same rows
for both tools. reshard, sample and balance draw rows by design differently (pick's seeded
draws and exact balancing vs bonepick's Python `random` over os.walk order), so after them
the two pipelines would hold different rows and no later output could be compared row for
row: every step after reshard reads bonepick's output of the step before, for both tools,
except that each tool trains, evaluates and scores with its own models. eval-fasttext and
infer-fasttext are also run (untimed) by pick with bonepick's model, for exact checks.
"""

import argparse
import collections
import glob
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

BINARIZE = '{score: (if .metadata.code_quality.score < 3 then "neg" else "pos" end)}'
FT_LABEL = '(if .metadata.ft.__label__pos >= 0.5 then "pos" else "neg" end)'
# bonepick 0.5.0's Model2Vec commands, run as its own CLI with two run-time adjustments:
# - train-model2vec's function takes text_field/label_field/text_expression/label_expression
#   but the command never declares those options, so every call ends in a TypeError; they are
#   declared here with bonepick's own decorator (the one its other commands use);
# - its tokenizer returns chunks out of order (B1): with more than one chunk, texts and labels
#   are paired wrongly. One chunk needs num_proc == 1 (it is os.cpu_count(), no flag) and at
#   most 20,000 texts per split: os.cpu_count() answers 1 in this process (torch still trains
#   on OMP_NUM_THREADS threads) and the training split is kept under that size.
BONEPICK_M2V = """
import os, sys
os.cpu_count = lambda: 1
sys.argv[0] = "bonepick"
from bonepick import cli
from bonepick.data.expressions import add_field_or_expression_command_options
cmd = cli.commands["train-model2vec"]
if not any(p.name == "text_expression" for p in cmd.params):
    add_field_or_expression_command_options(cmd)
cli()
"""
M2V_MAX_TRAIN_ROWS = 18_000


# ---------------------------------------------------------------- reading outputs


def files_under(d, exts=(".jsonl", ".jsonl.zst", ".jsonl.gz", ".json", ".json.zst")):
    out = []
    for root, _, names in os.walk(d):
        for n in names:
            if n.endswith(exts) and not n.startswith("."):
                out.append(os.path.join(root, n))
    return sorted(out)


def lines_of(path):
    if path.endswith((".zst", ".gz")):
        tool = ["zstd", "-dcqf", path] if path.endswith(".zst") else ["gzip", "-dc", path]
        with subprocess.Popen(tool, stdout=subprocess.PIPE) as p:
            for line in p.stdout:
                if line.strip():
                    yield line.decode("utf-8").rstrip("\n")
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line.rstrip("\n")


def canon(line):
    return json.dumps(json.loads(line), sort_keys=True, ensure_ascii=False)


def digest(s):
    return hashlib.sha1(s.encode()).digest()


def split_of(root, path):
    rel = os.path.relpath(path, root)
    return rel.split(os.sep)[0] if os.sep in rel else ""


def row_counter(d, per_split=True):
    """{split: Counter(sha1 of canonical row)}; split "" for files at the top."""
    out = collections.defaultdict(collections.Counter)
    for f in files_under(d):
        s = split_of(d, f) if per_split else ""
        for line in lines_of(f):
            out[s][digest(canon(line))] += 1
    return dict(out)


def count_rows(d):
    return {s: sum(c.values()) for s, c in sorted(row_counter(d).items())}


def dir_bytes(d):
    return sum(os.path.getsize(f) for f in files_under(d))


def fmt_counts(c):
    return ", ".join(f"{k or 'all'} {v:,}" for k, v in sorted(c.items()))


# ---------------------------------------------------------------- running


class Runner:
    def __init__(self, args):
        self.args = args
        self.logs = os.path.join(args.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        env = dict(os.environ)
        env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="true",
                   HF_HOME=os.path.join(args.work, "hf-home"), COLUMNS="200",
                   HF_DATASETS_CACHE=os.path.join(args.work, "hf-datasets-cache"))
        self.env = env

    def run(self, tool, step, cmd, env_extra=None):
        """Run one command under GNU time; (seconds, peak RSS bytes, stdout) or None on failure."""
        env = dict(self.env)
        env.update(env_extra or {})
        tag = f"{step}-{tool}".replace(" ", "_").replace("/", "_")
        out_path = os.path.join(self.logs, tag + ".out")
        err_path = os.path.join(self.logs, tag + ".err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            err.write("$ " + " ".join(cmd) + "\n")
            err.flush()
            t = time.time()
            p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=out, stderr=err,
                               env=env)
            wall = time.time() - t
        with open(err_path, errors="replace") as f:
            err_text = f.read()
        if p.returncode != 0:
            lines = [l for l in err_text.strip().splitlines()
                     if l.strip() and not l.strip().isdigit() and not l.startswith("Command exited")]
            tail = "\n".join(lines[-12:])
            print(f"    {tool} failed ({err_path}):\n{tail}", flush=True)
            return None, tail
        rss = int(err_text.strip().splitlines()[-1]) * 1024
        with open(out_path, errors="replace") as f:
            return (wall, rss, f.read()), None


# ---------------------------------------------------------------- checks


def check_same_rows_per_split(b, k):
    cb, ck = row_counter(b), row_counter(k)
    same = cb == ck
    n = {s: sum(c.values()) for s, c in ck.items()}
    msg = f"{fmt_counts(n)} rows; same rows as bonepick per split: {same}"
    if not same:
        nb = {s: sum(c.values()) for s, c in cb.items()}
        diff = sum(((cb.get(s, collections.Counter()) - ck.get(s, collections.Counter())) +
                    (ck.get(s, collections.Counter()) - cb.get(s, collections.Counter()))).total()
                   for s in set(cb) | set(ck))
        msg += f" (bonepick {fmt_counts(nb)}; {diff:,} rows differ)"
    return msg, same


def check_same_rows_per_file(b, k):
    """Row-for-row, file by file (for steps that mirror the input's files and keep order)."""
    fb = {os.path.relpath(f, b): f for f in files_under(b)}
    fk = {os.path.relpath(f, k): f for f in files_under(k)}
    if set(fb) != set(fk):
        return (f"different files: only bonepick {sorted(set(fb) - set(fk))[:3]}, only pick "
                f"{sorted(set(fk) - set(fb))[:3]}"), False
    rows, bad = 0, 0
    for rel in sorted(fb):
        lb = [canon(l) for l in lines_of(fb[rel])]
        lk = [canon(l) for l in lines_of(fk[rel])]
        rows += len(lk)
        if len(lb) != len(lk):
            bad += abs(len(lb) - len(lk))
        bad += sum(1 for x, y in zip(lb, lk) if x != y)
    return f"{rows:,} rows in {len(fk)} files; rows differing from bonepick: {bad:,}", bad == 0


def check_reshard(inp_b, inp_k, b, k):
    ok = True
    parts = []
    for tool, inp, out in (("pick", inp_k, k), ("bonepick", inp_b, b)):
        want = sum(row_counter(inp, per_split=False).values(), collections.Counter())
        got = sum(row_counter(out, per_split=False).values(), collections.Counter())
        same = want == got
        ok &= same
        parts.append(f"{tool} every input row once: {same}")
    nk, nb = count_rows(k), count_rows(b)
    ok &= nk == nb
    fk = collections.Counter(split_of(k, f) for f in files_under(k))
    parts.append(f"split rows pick {fmt_counts(nk)}, bonepick {fmt_counts(nb)}; files pick "
                 f"{fmt_counts(fk)}")
    return "; ".join(parts), ok


def check_sample(b, k, target, inp):
    rows_in = sum(row_counter(inp, per_split=False).values(), collections.Counter())
    parts, ok = [], True
    for tool, d in (("pick", k), ("bonepick", b)):
        got = sum(row_counter(d, per_split=False).values(), collections.Counter())
        subset = not (got - rows_in)
        ok &= subset
        parts.append(f"{tool} {dir_bytes(d) / target:.3f} of it ({got.total():,} of "
                     f"{rows_in.total():,} rows, all input rows: {subset})")
    ok &= abs(dir_bytes(k) / target - 1) <= 0.02
    return f"target {target / 2**20:.1f} MiB: " + ", ".join(parts), ok


def check_fasttext_files(b, k):
    ok = True
    parts = []
    for name in ("train.txt", "valid.txt", "test.txt"):
        pb, pk = os.path.join(b, name), os.path.join(k, name)
        if not os.path.exists(pb) and not os.path.exists(pk):
            continue
        if not (os.path.exists(pb) and os.path.exists(pk)):
            parts.append(f"{name} missing on one side")
            ok = False
            continue
        cb = collections.Counter(digest(l) for l in open(pb, encoding="utf-8"))
        ck = collections.Counter(digest(l) for l in open(pk, encoding="utf-8"))
        same = cb == ck
        ok &= same
        parts.append(f"{name} {ck.total():,} lines{'' if same else ' DIFFER'}")
    return "; ".join(parts) + f"; same lines as bonepick: {ok}", ok


def check_ft_model(b, k):
    sb = os.path.getsize(os.path.join(b, "model.bin"))
    sk = os.path.getsize(os.path.join(k, "model.bin"))
    params = []
    for d in (b, k):
        try:
            params.append(json.load(open(os.path.join(d, "train_params.json")))["parameters"])
        except (OSError, KeyError, ValueError):
            params.append(None)
    same_params = params[0] is not None and params[0] == params[1]
    return (f"model.bin pick {sk / 1e6:,.0f} MB, bonepick {sb / 1e6:,.0f} MB (same size: "
            f"{sb == sk}); same train_params: {same_params}"), sb == sk and same_params


def results_yaml(model_dir):
    found = sorted(glob.glob(os.path.join(model_dir, "results_*.yaml")), key=os.path.getmtime)
    if not found:
        return None
    with open(found[-1]) as f:
        return yaml.safe_load(f)


def check_eval(b_model, k_model, tol):
    rb, rk = results_yaml(b_model), results_yaml(k_model)
    if not rb or not rk:
        return "no results YAML", False
    ob, ok_ = rb["overall_results"], rk["overall_results"]
    parts, good = [], True
    for key in ("macro_f1", "macro_auc"):
        vb, vk = ob.get(key), ok_.get(key)
        if vb is None or vk is None:
            parts.append(f"{key} pick {vk} / bonepick {vb}")
            continue
        within = abs(vb - vk) <= tol
        good &= within
        parts.append(f"{key} pick {vk:.4f} / bonepick {vb:.4f}")
    sup_b = {c["class_name"]: c["support"] for c in rb.get("per_class_metrics", [])}
    sup_k = {c["class_name"]: c["support"] for c in rk.get("per_class_metrics", [])}
    parts.append(f"same test support: {sup_b == sup_k}")
    return "; ".join(parts) + f"; within {tol}: {good}", good


def argmax_label(probs):
    return max(sorted(probs), key=lambda k: probs[k])


def compare_scored(b, k, name="ft"):
    """(rows, label agreement, max |dp|, mean |dp|, other fields equal)."""
    fb = {os.path.relpath(f, b): f for f in files_under(b)}
    fk = {os.path.relpath(f, k): f for f in files_under(k)}
    rows = agree = 0
    worst = total = 0.0
    rest_equal = set(fb) == set(fk)
    for rel in sorted(set(fb) & set(fk)):
        lb, lk = list(lines_of(fb[rel])), list(lines_of(fk[rel]))
        rest_equal &= len(lb) == len(lk)
        for x, y in zip(lb, lk):
            x, y = json.loads(x), json.loads(y)
            px, py = x["metadata"].pop(name), y["metadata"].pop(name)
            if not x["metadata"]:
                x.pop("metadata")
            if not y["metadata"]:
                y.pop("metadata")
            rest_equal &= x == y
            rows += 1
            agree += argmax_label(px) == argmax_label(py)
            d = max(abs(px[l] - py.get(l, 0.0)) for l in px)
            worst = max(worst, d)
            total += d
    return rows, agree, worst, (total / rows if rows else 0.0), rest_equal


NUM = re.compile(r"-?\d[\d,]*(?:\.\d+)?%?")
SKIP_LINE = re.compile(r"^\s*(Dataset|Label Expression|Key Expression|Datasets?\s*\d|.*:\s*/)")


# A line holding only "(…%)" parts is a table cell wrapped by rich: bonepick's label-distribution
# table fixes its Count column at width=12, so "1,396 (32.3%)" (13 chars) prints as "1,396" with
# "(32.3%)" on the next line, after the row's Percentile. Such a part belongs to the cell above it.
WRAPPED = re.compile(r"^\s*(?:\(-?[\d,.]+%?\)\s*)+$")


def numbers(text):
    out = []
    prev = None  # (start column, end column) of each number of the last kept line, and its offset
    for line in text.splitlines():
        if SKIP_LINE.match(line) or "/" in line and ("tmp" in line or "cache" in line):
            prev = None
            continue
        found = [(m.start(), m.end(), m.group().replace(",", "")) for m in NUM.finditer(line)]
        if prev is not None and found and WRAPPED.match(line):
            # Fold into the line above: each part goes after the numbers of that line which
            # start left of the part's end (its cell), i.e. before the next cell's numbers.
            cols, base = prev
            for start, end, val in found:
                at = sum(1 for s, _ in cols if s < end + 1)
                out.insert(base + at, val)
                cols.insert(at, (start, end))
            continue
        prev = ([(s, e) for s, e, _ in found], len(out))
        out += [v for _, _, v in found]
    return out


def check_numbers(b_out, k_out):
    nb, nk = numbers(b_out), numbers(k_out)
    same = nb == nk
    msg = f"{len(nk)} numbers printed; equal to bonepick's: {same}"
    if not same:
        first = next((i for i, (x, y) in enumerate(zip(nb, nk)) if x != y), min(len(nb), len(nk)))
        msg += (f" (first difference at #{first}: bonepick {nb[first:first + 3]} pick "
                f"{nk[first:first + 3]}; counts {len(nb)} vs {len(nk)})")
    return msg, same


def table_rows(text):
    """{first cell: [numbers]} for table rows whose other cells are all numbers ("49",
    "20.1", "49 (20.1%)"), whatever the box characters."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"[│┆┃|]", line)]
        cells = [c for c in cells if c]
        if len(cells) < 2:
            continue
        vals = []
        for c in cells[1:]:
            m = re.fullmatch(r"(-?[\d,.]+)%?(?:\s*\((-?[\d.]+)%\))?", c)
            if not m:
                break
            vals.append(round(float(m.group(1).replace(",", "")), 4))
            if m.group(2):
                vals.append(round(float(m.group(2)), 4))
        else:
            rows[cells[0]] = vals
    return rows


def agreement_figures(text):
    low = text.lower()
    out = {}
    # bonepick prints counts with thousands separators ("Common samples │ 2,020",
    # "Agreements: 1,631 / 2,020"), pick without: read the separators, then drop them.
    for name, pat in (("common", r"common (?:samples|keys)\W*(\d[\d,]*)"),
                      ("agreement rate", r"agreement rate:\s*([\d.]+)"),
                      ("kappa", r"cohen's kappa:\s*(-?[\d.]+)"),
                      ("agreements", r"(?<!dis)agreements:\s*(\d[\d,]*)"),
                      ("disagreements", r"disagreements:\s*(\d[\d,]*)")):
        m = re.search(pat, low)
        out[name] = m.group(1).replace(",", "") if m else None
    ld, cm = low.find("label distribution"), low.find("confusion matrix")
    if ld >= 0:
        out["label distribution"] = table_rows(text[ld:cm if cm > ld else None])
    if cm >= 0:
        out["confusion matrix"] = table_rows(text[cm:])
    return out


def check_agreement(b_out, k_out):
    fb, fk = agreement_figures(b_out), agreement_figures(k_out)
    same = fk == fb and all(v is not None for v in fk.values())
    shown = ", ".join(f"{k} {fk[k]}" for k in ("common", "agreement rate", "kappa"))
    msg = f"pick: {shown}; same figures, label counts and confusion matrix as bonepick: {same}"
    if not same:
        diff = [k for k in fb if fb.get(k) != fk.get(k)]
        msg += f" (differ: {diff}; bonepick {[fb[k] for k in diff]})"
    return msg, same


def check_balance(b, k):
    def counts(d):
        c = collections.Counter()
        for f in files_under(d):
            for line in lines_of(f):
                c[(split_of(d, f), str(json.loads(line)["score"]))] += 1
        return c

    ck, cb = counts(k), counts(b)
    splits = sorted({s for s, _ in ck} | {s for s, _ in cb})

    def show(c):
        return "; ".join(f"{s} " + "/".join(f"{l} {n:,}" for (s2, l), n in sorted(c.items())
                                           if s2 == s) for s in splits)

    exact = all(len({n for (s2, _), n in ck.items() if s2 == s}) == 1 for s in splits)
    return f"pick {show(ck)} (equal per split: {exact}); bonepick {show(cb)}", exact


# ---------------------------------------------------------------- the pipeline


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pick", required=True)
    ap.add_argument("--bonepick", required=True, help="bonepick of a base install (+rich)")
    ap.add_argument("--bonepick-datasets", required=True, help="bonepick with the datasets extra")
    ap.add_argument("--bonepick-m2v", required=True, help="bonepick with the model2vec extra")
    ap.add_argument("--snapshot", required=True, help="local dataset folder with train/ and test/")
    ap.add_argument("--work", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reshard-files", type=int, default=32)
    ap.add_argument("--model", default="models/model2vec/potion-8m-pca64")
    ap.add_argument("--m2v-max-epochs", type=int, default=10)
    ap.add_argument("--fasttext-args", default="",
                    help="extra train-fasttext flags for both tools (default: the worklog's none)")
    ap.add_argument("--tolerance", type=float, default=0.01)
    ap.add_argument("--json")
    ap.add_argument("--stop-after", metavar="STEP",
                    help="run the steps up to this one (e.g. sample-dataset: the data prep)")
    ap.add_argument("--pick-args", default="",
                    help="flags added to every pick step (e.g. '--compression-level 1')")
    args = ap.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    W, T = args.work, str(args.threads)
    model = os.path.abspath(args.model)
    r = Runner(args)
    pick = [args.pick, "-q"]
    bp = [args.bonepick]
    bp_ds = [args.bonepick_datasets]
    m2v_py = os.path.join(os.path.dirname(args.bonepick_m2v), "python")
    bp_m2v = [m2v_py, "-c", BONEPICK_M2V]
    m2v_env = {"OMP_NUM_THREADS": T, "MKL_NUM_THREADS": T}

    def out(tool, name):
        return os.path.join(W, tool, name)

    def own(tool, name):
        return out(tool, name)

    def bone(tool, name):
        return out("bonepick", name)

    n_snap = count_rows(args.snapshot)
    snap_bytes = dir_bytes(args.snapshot)
    print(f"snapshot {args.snapshot}: {fmt_counts(n_snap)} rows, {snap_bytes / 1e6:.1f} MB stored; "
          f"{T} threads", flush=True)

    # Start-up cost of each bonepick install (an import of the package), for reading the table.
    startup = {}
    for name, exe in (("base", bp), ("datasets", bp_ds), ("model2vec", [args.bonepick_m2v])):
        res, _ = r.run("bonepick", f"startup-{name}", exe + ["version"])
        startup[name] = round(res[0], 2) if res else None
    print("bonepick start-up (`bonepick version`, s): " +
          ", ".join(f"{k} {v}" for k, v in startup.items()), flush=True)

    results = []
    done = {}  # (tool, step) -> True when the step produced its output
    stopped = [False]

    def step(name, argv_for, needs, check=None, b_exe=None, env=None, k_extra=()):
        """argv_for(tool) -> argv after the executable; needs: [(step, 'own'|'bonepick')]."""
        if stopped[0]:
            return None
        stopped[0] = name == args.stop_after
        row = {"step": name}
        for tool in ("bonepick", "pick"):
            missing = [s for s, how in needs
                       if not done.get(("bonepick" if how == "bonepick" else tool, s))]
            if missing:
                row[tool] = {"error": f"skipped: {', '.join(missing)} failed"}
                continue
            exe = (b_exe or bp) if tool == "bonepick" else pick
            argv = argv_for(tool)
            if tool == "pick":
                argv = argv + list(k_extra) + args.pick_args.split()
            res, err = r.run(tool, name, exe + argv, env if tool == "bonepick" else None)
            if res is None:
                row[tool] = {"error": err.splitlines()[-1][:200] if err else "failed"}
                continue
            wall, rss, stdout = res
            row[tool] = {"seconds": round(wall, 2), "peak_rss_mb": round(rss / 2**20, 1)}
            row.setdefault("stdout", {})[tool] = stdout
            done[(tool, name)] = True
            print(f"  {name:<30} {tool:<9} {wall:8.2f} s {rss / 2**20:8.0f} MB", flush=True)
        if "seconds" in row["bonepick"] and "seconds" in row["pick"]:
            row["ratio"] = round(row["bonepick"]["seconds"] / row["pick"]["seconds"], 2)
            if check:
                try:
                    row["check"], row["ok"] = check(row)
                except Exception as e:  # a check must not end the run
                    row["check"], row["ok"] = f"check failed: {e!r}", False
                print(f"  {'':<30} {row['ratio']}x  {row['check']}", flush=True)
        else:
            errs = [f"{t}: {row[t]['error']}" for t in ("bonepick", "pick") if "error" in row[t]]
            row["check"], row["ok"] = "; ".join(errs), False
        row.pop("stdout", None)
        results.append(row)
        return row

    # 1. import-hf-dataset: the local snapshot (train/ and test/) to train/ and test/ shards.
    #    --test-split as the worklog writes it; the snapshot has a test split, so it is unused.
    step("import-hf-dataset",
         lambda t: ["import-hf-dataset", "--name", os.path.abspath(args.snapshot),
                    "--output-dir", own(t, "imported"), "--test-split", "10000", "-p", T],
         [], b_exe=bp_ds,
         check=lambda _: check_same_rows_per_split(out("bonepick", "imported"),
                                                   out("pick", "imported")))

    # 2. transform-dataset: binarize the 1..5 score as the worklog does.
    step("transform-dataset",
         lambda t: ["transform-dataset", "--input-dir", own(t, "imported"),
                    "--output-dir", own(t, "binary"), "--label-transform", BINARIZE, "-p", T],
         [("import-hf-dataset", "own")],
         check=lambda _: check_same_rows_per_split(out("bonepick", "binary"),
                                                   out("pick", "binary")))

    # 3. reshard-dataset (Code Quality step 2), with test and valid splits.
    step("reshard-dataset",
         lambda t: ["reshard-dataset", "--dataset-dir", own(t, "binary"),
                    "--output-dir", own(t, "split"), "--num-files", str(args.reshard_files),
                    "--test-split-frac", "0.1", "--valid-split-frac", "0.1", "-p", T],
         [("transform-dataset", "own")],
         check=lambda _: check_reshard(out("bonepick", "binary"), out("pick", "binary"),
                                       out("bonepick", "split"), out("pick", "split")))

    # 4. sample-dataset --target-size (Code Quality step 3). The size keeps the sample's train
    #    split under 20,000 rows, so that bonepick's Model2Vec training (which reads it) runs
    #    as one tokenizer chunk (B1).
    target = 0
    if done.get(("bonepick", "reshard-dataset")):
        split_b = out("bonepick", "split")
        train_rows = count_rows(split_b).get("train", 1)
        frac = min(0.5, M2V_MAX_TRAIN_ROWS / train_rows)
        target = max(1, int(dir_bytes(split_b) * frac))
    step("sample-dataset",
         lambda t: ["sample-dataset", "--dataset-dir", bone(t, "split"),
                    "--output-dir", own(t, "sample"), "--target-size", str(target), "-p", T],
         [("reshard-dataset", "bonepick")],
         check=lambda _: check_sample(out("bonepick", "sample"), out("pick", "sample"), target,
                                      out("bonepick", "split")))

    # 5. normalize-dataset -n ultrafine on the resharded data.
    step("normalize-dataset ultrafine",
         lambda t: ["normalize-dataset", "--input-dir", bone(t, "split"),
                    "--output-dir", own(t, "split-ultrafine"), "--normalization", "ultrafine",
                    "-p", T],
         [("reshard-dataset", "bonepick")],
         check=lambda _: check_same_rows_per_file(out("bonepick", "split-ultrafine"),
                                                  out("pick", "split-ultrafine")))

    # 6. normalize-dataset -n potion (Step 3b) on the sample: the Model2Vec training data.
    step("normalize-dataset potion",
         lambda t: ["normalize-dataset", "--input-dir", bone(t, "sample"),
                    "--output-dir", own(t, "sample-potion"), "-n", "potion", "-p", T],
         [("sample-dataset", "bonepick")],
         check=lambda _: check_same_rows_per_file(out("bonepick", "sample-potion"),
                                                  out("pick", "sample-potion")))

    # 7. convert-to-fasttext --normalization ultrafine (Step 3a).
    step("convert-to-fasttext ultrafine",
         lambda t: ["convert-to-fasttext", "--input-dir", bone(t, "split"),
                    "--output-dir", own(t, "ft"), "--normalization", "ultrafine", "-p", T],
         [("reshard-dataset", "bonepick")],
         check=lambda _: check_fasttext_files(out("bonepick", "ft"), out("pick", "ft")))

    # 8. train-fasttext (Step 4a): bonepick's defaults (dim 256, 2M buckets), on T threads.
    ft_args = args.fasttext_args.split()
    step("train-fasttext",
         lambda t: ["train-fasttext", "--dataset-dir", own(t, "ft"),
                    "--output-dir", own(t, "ft-model"), "--thread", T] + ft_args,
         [("convert-to-fasttext ultrafine", "own")],
         check=lambda _: check_ft_model(out("bonepick", "ft-model"), out("pick", "ft-model")))

    # 9. eval-fasttext (Step 5a): each tool's model on its own test.txt.
    def check_eval_ft(_):
        msg, ok = check_eval(out("bonepick", "ft-model"), out("pick", "ft-model"), args.tolerance)
        # The same model and test.txt on both sides: pick evaluating bonepick's model (not
        # timed; a folder of links, so that bonepick's results file stays as it wrote it).
        same = out("pick", "ft-model-of-bonepick")
        os.makedirs(same, exist_ok=True)
        os.symlink(os.path.join(out("bonepick", "ft-model"), "model.bin"),
                   os.path.join(same, "model.bin"))
        res, _ = r.run("pick", "eval-fasttext-bonepick-model",
                       pick + ["eval-fasttext", "--dataset-dir", out("bonepick", "ft"),
                               "--model-dir", same, "-p", T])
        rb, rk = results_yaml(out("bonepick", "ft-model")), results_yaml(same) if res else None
        if not rk:
            return msg + "; pick on bonepick's model failed", False
        # Precision, recall, F1 and support to the digit; AUC within the tolerance (bonepick
        # ranks predict-prob's 6-digit probabilities, where ties are more frequent).
        keys = ("class_name", "precision", "recall", "f1", "support")
        prf = ([{k: c[k] for k in keys} for c in rb["per_class_metrics"]] ==
               [{k: c[k] for k in keys} for c in rk["per_class_metrics"]] and
               all(rb["overall_results"][k] == rk["overall_results"][k]
                   for k in ("macro_precision", "macro_recall", "macro_f1")))
        ab, ak = rb["overall_results"]["macro_auc"], rk["overall_results"]["macro_auc"]
        auc_ok = ab is None or (ak is not None and abs(ab - ak) <= args.tolerance)
        return (msg + f"; pick on bonepick's model: same precision/recall/F1: {prf}, macro_auc "
                f"{ak} vs {ab}"), ok and prf and auc_ok

    step("eval-fasttext",
         lambda t: ["eval-fasttext", "--dataset-dir", own(t, "ft"),
                    "--model-dir", own(t, "ft-model")],
         [("train-fasttext", "own"), ("convert-to-fasttext ultrafine", "own")],
         k_extra=["-p", T], check=check_eval_ft)

    # 10. infer-fasttext: each tool's model scores the sample.
    def check_infer(_):
        n, agree, worst, mean, rest = compare_scored(out("bonepick", "scored"),
                                                     out("pick", "scored"))
        msg = (f"{n:,} rows; labels equal to bonepick's: {agree / max(n, 1):.2%}; "
               f"|p pick - p bonepick| max {worst:.3g}, mean {mean:.3g}; other fields equal: {rest}")
        # The same model on both sides: pick scoring with bonepick's model (not timed).
        res, _ = r.run("pick", "infer-fasttext-bonepick-model",
                       pick + ["infer-fasttext", "--model-dir", out("bonepick", "ft-model"),
                               "--input-dir", out("bonepick", "sample"),
                               "--output-dir", out("pick", "scored-with-bonepick-model"),
                               "--classifier-name", "ft", "--normalizer", "ultrafine",
                               "--num-proc", T])
        same_ok = False
        if res:
            n2, agree2, worst2, _, rest2 = compare_scored(
                out("bonepick", "scored"), out("pick", "scored-with-bonepick-model"))
            same_ok = n2 == n and agree2 == n2 and worst2 <= 1e-5 and rest2
            msg += (f"; pick with bonepick's model: labels equal {agree2:,}/{n2:,}, "
                    f"max |dp| {worst2:.2g} (within 1e-5: {worst2 <= 1e-5})")
        return msg, same_ok and rest

    step("infer-fasttext",
         lambda t: ["infer-fasttext", "--model-dir", own(t, "ft-model"),
                    "--input-dir", bone(t, "sample"), "--output-dir", own(t, "scored"),
                    "--classifier-name", "ft", "--normalizer", "ultrafine", "--num-proc", T],
         [("train-fasttext", "own"), ("sample-dataset", "bonepick")],
         check=check_infer)

    # 11. train-model2vec (Step 4b) on the potion-normalized sample, the repo's base model.
    #     --batch-size and --min-epochs are given because bonepick crashes without them (B2);
    #     the batch size is model2vec's own default for this many rows.
    m2v_train = out("bonepick", "sample-potion")
    batch = 32
    if done.get(("bonepick", "normalize-dataset potion")):
        n_train = count_rows(m2v_train).get("train", 0)
        batch = 32 * int(min(max(1, (n_train / 30) // 32), 16))
    m2v_flags = ["--model-name", model, "--batch-size", str(batch), "--min-epochs", "1",
                 "--max-epochs", str(args.m2v_max_epochs)]
    step("train-model2vec",
         lambda t: ["train-model2vec", "--dataset-dir", bone(t, "sample-potion"),
                    "--output-dir", own(t, "m2v-model")] + m2v_flags,
         [("normalize-dataset potion", "bonepick")], b_exe=bp_m2v, env=m2v_env,
         k_extra=["-p", T],
         check=lambda _: (f"batch {batch}; both saved a model: "
                          f"{os.path.isdir(out('bonepick', 'm2v-model/model'))} / "
                          f"{os.path.isdir(out('pick', 'm2v-model/model'))}",
                          os.path.isdir(out("bonepick", "m2v-model/model"))
                          and os.path.isdir(out("pick", "m2v-model/model"))))

    # 12. eval-model2vec (Step 5b): each tool's model on the same test split.
    step("eval-model2vec",
         lambda t: ["eval-model2vec", "--dataset-dir", bone(t, "sample-potion"),
                    "--model-dir", own(t, "m2v-model")],
         [("train-model2vec", "own"), ("normalize-dataset potion", "bonepick")],
         b_exe=[args.bonepick_m2v], env=m2v_env, k_extra=["-p", T],
         check=lambda _: check_eval(out("bonepick", "m2v-model"), out("pick", "m2v-model"),
                                    args.tolerance))

    # 13. balance-dataset (Step 6) on the potion-normalized sample.
    step("balance-dataset",
         lambda t: ["balance-dataset", "--input-dir", bone(t, "sample-potion"),
                    "--output-dir", own(t, "balanced"), "-p", T],
         [("normalize-dataset potion", "bonepick")],
         check=lambda _: check_balance(out("bonepick", "balanced"), out("pick", "balanced")))

    # 14. label-distribution of the imported 1..5 scores, with key lengths of the text.
    step("label-distribution",
         lambda t: ["label-distribution", "--dataset-dir", own(t, "imported"),
                    "--label-expression", ".metadata.code_quality.score",
                    "--key-expression", ".text"],
         [("import-hf-dataset", "own")], k_extra=["-p", T],
         check=lambda row: check_numbers(row["stdout"]["bonepick"], row["stdout"]["pick"]))

    # 15. annotation-agreement: the sample's gold label against bonepick's fastText label,
    #     keyed by text, as the worklog compares two annotation runs.
    step("annotation-agreement",
         lambda t: ["annotation-agreement", "--dataset-dir", bone(t, "sample"),
                    "--dataset-dir", bone(t, "scored"), "--label-expression", ".score",
                    "--label-expression", FT_LABEL, "--key-expression", ".text"],
         [("sample-dataset", "bonepick"), ("infer-fasttext", "bonepick")],
         check=lambda row: check_agreement(row["stdout"]["bonepick"], row["stdout"]["pick"]))

    # ---------------------------------------------------------------- the table
    both = [x for x in results if "ratio" in x]
    tb = sum(x["bonepick"]["seconds"] for x in both)
    tk = sum(x["pick"]["seconds"] for x in both)
    total = {"step": "total", "bonepick": {"seconds": round(tb, 2), "peak_rss_mb": max(
        (x["bonepick"]["peak_rss_mb"] for x in both), default=0)},
        "pick": {"seconds": round(tk, 2), "peak_rss_mb": max(
            (x["pick"]["peak_rss_mb"] for x in both), default=0)},
        "ratio": round(tb / tk, 2) if tk else None,
        "check": f"{sum(1 for x in results if x.get('ok'))} of {len(results)} checks pass"}

    def cell(d, key, fmt):
        return fmt.format(d[key]) if key in d else "failed" if "error" in d else ""

    print()
    print("| step | bonepick s | pick s | ratio | bonepick RSS MB | pick RSS MB | check |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for x in results + [total]:
        b, k = x["bonepick"], x["pick"]
        ratio = f"{x['ratio']}x" if x.get("ratio") else ""
        ok = "" if x is total else ("ok: " if x.get("ok") else "CHECK: " if x.get("ok") is False
                                    else "")
        print(f"| {x['step']} | {cell(b, 'seconds', '{:.2f}')} | {cell(k, 'seconds', '{:.2f}')} | "
              f"{ratio} | {cell(b, 'peak_rss_mb', '{:,.0f}')} | {cell(k, 'peak_rss_mb', '{:,.0f}')} "
              f"| {ok}{x.get('check', '')} |")
    print(f"\nbonepick start-up per command (`bonepick version`): "
          + ", ".join(f"{k} install {v} s" for k, v in startup.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"snapshot": args.snapshot, "snapshot_rows": n_snap,
                       "snapshot_stored_bytes": snap_bytes, "threads": args.threads,
                       "reshard_files": args.reshard_files, "sample_target_bytes": target,
                       "m2v_batch_size": batch, "m2v_max_epochs": args.m2v_max_epochs,
                       "fasttext_args": args.fasttext_args, "model": model,
                       "bonepick_startup_seconds": startup, "results": results,
                       "total": total}, f, indent=1)
    print(f"logs: {r.logs}" + (f"; results: {args.json}" if args.json else ""))


if __name__ == "__main__":
    main()

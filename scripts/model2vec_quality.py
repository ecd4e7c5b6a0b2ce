#!/usr/bin/env python3
"""Reference numbers for Model2Vec *training*: Python model2vec 0.10.0 fits a classifier (or a
regressor) on bonepick-layout datasets and scores it on their test split, so that pick's Rust
trainer can be compared with it on the same data.

    python3 scripts/model2vec_quality.py DIR [DIR ...] [--text .text] [--label .score]
        [--binary-threshold T] [--regression] [--model models/model2vec/potion-8m-pca64]
        [--threads N] [--save OUT] [--progress]

    # binary code quality on data-samples (score < 3 -> "neg", else "pos")
    python3 scripts/model2vec_quality.py data-samples --label .metadata.code_quality.score --binary-threshold 3
    # the same score as a regression target
    python3 scripts/model2vec_quality.py data-samples --label .metadata.code_quality.score --regression

Data: each DIR holds train/*.jsonl.zst, test/*.jsonl.zst and optionally valid/*.jsonl.zst
(plain *.jsonl is read too). Shards are read in sorted order and rows in file order; the rows of
several DIRs are concatenated per split. The text and the label are picked with jq-like paths
(`.a.b.c`, `.a[0]`); a label is `str()` of its JSON value, or with `--binary-threshold T` "neg" if
the number is below T and "pos" otherwise. A row whose text is not a string or whose label is
missing stops the run. Texts are used as they are: normalize them beforehand if wanted.

Training: `StaticModelForClassification.from_pretrained(path=MODEL).fit(X, y, X_val=, y_val=)`
(or `StaticModelForRegression` with targets shaped [[float], ...]) with model2vec's defaults:
Adam at lr 1e-3, batch size chosen from the training size, early stopping after 5 validations
without improvement, the best checkpoint kept, seed 42. Without valid/ rows, fit splits off its
own validation set (10%, stratified). Epochs, steps and the validation history are observed by
wrapping model2vec's training loop helpers (model2vec.train.trainer / .base); nothing in the
training itself is changed.

Output: one JSON object on stdout. Classification: macro precision/recall/F1 over the model's
classes (as `pick eval-*` averages), accuracy, per-class precision/recall/F1/support and the
one-vs-rest AUC of each class (for two classes, macro_auc is the AUC of the second, as
scikit-learn's binary roc_auc_score). Regression: MSE, MAE, R², Pearson and Spearman (average ranks
for ties). These score the trained torch model (model2vec's predict_proba / encode); "pipeline"
scores the same weights converted with to_pipeline(), which reads fewer characters of long texts
(see the comment in main()). All metrics are computed here with numpy, no scikit-learn needed. Plus row counts,
batch size, epochs, steps, training seconds and training samples per second (rows fed to the
optimizer, over the wall time of fit, validation and per-batch tokenization included).
`--save OUT` writes the trained pipeline with `to_pipeline().save_pretrained(OUT)`.

Environment: creates a venv under ~/.cache/pick-m2v-torch (PICK_M2V_TORCH_CACHE overrides) with
Python 3.12 (else 3.11) from pyenv, and re-runs itself in it. Everything comes from PyPI. PyPI's
Linux torch wheel is built for CUDA and cannot even be imported without its CUDA libraries, but
the pip resolver would also pull triton, cuda-bindings, cusolver and headers that are never
used: so torch is installed with --no-deps, then its pure-Python dependencies and exactly the
NVIDIA libraries its .so files link against (also --no-deps), then model2vec 0.10.0 with the
`train` extra's other dependency (datasets). About 2.3 GB to download, 4.6 GB on disk.
"""

import argparse
import glob
import io
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("PICK_M2V_TORCH_CACHE", Path.home() / ".cache" / "pick-m2v-torch"))
VENV = CACHE / "venv"
READY = VENV / ".pick-ready"
DEFAULT_MODEL = REPO / "models" / "model2vec" / "potion-8m-pca64"

# torch 2.15.0's own dependencies, less the CUDA ones.
TORCH = ["torch==2.15.0"]
TORCH_PURE_DEPS = ["filelock", "typing-extensions>=4.13.0", "setuptools>=77.0.3", "sympy>=1.13.3",
                   "networkx>=2.5.1", "jinja2", "fsspec>=0.8.5"]
# The libraries that torch 2.15.0's _C, libtorch_python, libtorch_cuda, libtorch_cpu and
# libtorch_global_deps need at load time (readelf -d ... | grep NEEDED), at the versions its
# requirements resolve to. Not needed to import or train on CPU: triton, cuda-bindings,
# nvidia-cusolver (only libtorch_cuda_linalg, loaded lazily), nvidia-nvtx, nvidia-cuda-cccl.
CUDA_LIBS = ["nvidia-cuda-runtime==13.2.86", "nvidia-cuda-cupti==13.2.86",
             "nvidia-cuda-nvrtc==13.2.86", "nvidia-cublas==13.4.1.3", "nvidia-cufft==12.2.0.57",
             "nvidia-cufile==1.17.1.22", "nvidia-cusparse==12.7.10.12",
             "nvidia-nvjitlink==13.5.37", "nvidia-cudnn-cu13==9.26.0.51",
             "nvidia-cusparselt-cu13==0.8.1", "nvidia-nccl-cu13==2.30.7",
             "nvidia-nvshmem-cu13==3.7.2"]
# model2vec[train] is model2vec + torch + datasets>=4.0.0; naming the extra would make pip
# resolve torch's CUDA requirements again.
PACKAGES = ["model2vec==0.10.0", "datasets==5.2.0", "zstandard"]


def base_python():
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              check=True).stdout.strip() or root
    except (OSError, subprocess.CalledProcessError):
        pass
    for minor in ("3.12", "3.11"):
        found = sorted(glob.glob(f"{root}/versions/{minor}.*/bin/python3"))
        if found:
            return found[-1]
    if sys.version_info >= (3, 10):
        return sys.executable
    sys.exit("needs Python 3.12 or 3.11 (pyenv) or a python3 >= 3.10")


def in_venv():
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not READY.exists():
        started = time.time()
        if not (VENV / "bin" / "python").exists():
            subprocess.run([base_python(), "-m", "venv", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        print(f"installing torch (CPU use), model2vec 0.10.0 into {VENV} ...", file=sys.stderr)
        subprocess.run(pip + ["--no-deps"] + TORCH + CUDA_LIBS, check=True)
        subprocess.run(pip + TORCH_PURE_DEPS + PACKAGES, check=True)
        print("(pip's complaint that torch's triton, cuda-bindings and cuda-toolkit requirements "
              "are not installed is expected: they are not needed on CPU)", file=sys.stderr)
        subprocess.run([str(VENV / "bin" / "python"), "-c",
                        "import torch, model2vec.train; torch.ones(2).sum()"], check=True)
        READY.write_text(f"installed in {time.time() - started:.0f}s\n")
    py = str(VENV / "bin" / "python")
    os.execv(py, [py, __file__] + sys.argv[1:])


# ---------------------------------------------------------------- data


def parse_path(path):
    """`.a.b[0]` -> ["a", "b", 0]; `.` -> []."""
    if not path.startswith("."):
        sys.exit(f"a path starts with '.': {path!r}")
    steps = []
    for part in path[1:].split("."):
        if not part:
            continue
        name, _, rest = part.partition("[")
        if name:
            steps.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            steps.append(int(index))
            rest = rest[1:] if rest.startswith("[") else rest
    return steps


MISSING = object()


def get_path(row, steps):
    for step in steps:
        if isinstance(step, int):
            if not isinstance(row, list) or not -len(row) <= step < len(row):
                return MISSING
        elif not isinstance(row, dict) or step not in row:
            return MISSING
        row = row[step]
    return row


def shard_rows(path):
    if path.endswith(".zst"):
        import zstandard

        with open(path, "rb") as f:
            stream = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8")
            yield from enumerate(stream, 1)
    else:
        with open(path, encoding="utf-8") as f:
            yield from enumerate(f, 1)


def read_split(dirs, split, text_steps, label_steps, to_label):
    """Texts and labels of DIR/split/* over all dirs; None if no dir has that split."""
    texts, labels, found = [], [], False
    for d in dirs:
        files = sorted(glob.glob(os.path.join(d, split, "*.jsonl.zst"))
                       + glob.glob(os.path.join(d, split, "*.jsonl")))
        found = found or bool(files)
        for path in files:
            for lineno, line in shard_rows(path):
                if not line.strip():
                    continue
                row = json.loads(line)
                text = get_path(row, text_steps)
                label = get_path(row, label_steps)
                if not isinstance(text, str):
                    sys.exit(f"{path}:{lineno}: the text is not a string")
                if label is MISSING or label is None:
                    sys.exit(f"{path}:{lineno}: no label")
                texts.append(text)
                labels.append(to_label(label, f"{path}:{lineno}"))
    return (texts, labels) if found else None


# ---------------------------------------------------------------- metrics


def ranks(values):
    """1-based ranks, ties sharing their average rank."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    out = np.empty(len(values))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        out[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return out


def roc_auc(scores, positive):
    import numpy as np

    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    r = ranks(scores)
    return float((r[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_metrics(classes, gold, probs):
    import numpy as np

    predicted = [classes[i] for i in probs.argmax(axis=1)]
    per_class = {}
    for k, c in enumerate(classes):
        tp = sum(1 for g, p in zip(gold, predicted) if g == c and p == c)
        n_pred = sum(1 for p in predicted if p == c)
        support = sum(1 for g in gold if g == c)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": support,
                        "auc": roc_auc(probs[:, k], [g == c for g in gold])}
    mean = lambda key: float(np.mean([r[key] for r in per_class.values()]))  # noqa: E731
    aucs = [r["auc"] for r in per_class.values()]
    if len(classes) == 2:
        macro_auc = aucs[1]
    elif len(classes) > 2 and None not in aucs:
        macro_auc = float(np.mean(aucs))
    else:
        macro_auc = None
    return {
        "macro_f1": mean("f1"),
        "macro_precision": mean("precision"),
        "macro_recall": mean("recall"),
        "macro_auc": macro_auc,
        "accuracy": sum(g == p for g, p in zip(gold, predicted)) / len(gold),
        "classes": per_class,
        "test_labels_not_in_train": sorted(set(gold) - set(classes)),
    }


def regression_metrics(gold, pred):
    import numpy as np

    gold = np.asarray(gold, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    err = pred - gold
    ss_tot = float(((gold - gold.mean()) ** 2).sum())

    def pearson(a, b):
        a, b = a - a.mean(), b - b.mean()
        den = math.sqrt(float((a * a).sum() * (b * b).sum()))
        return float((a * b).sum() / den) if den else None

    return {
        "mse": float((err ** 2).mean()),
        "mae": float(np.abs(err).mean()),
        "r2": 1 - float((err ** 2).sum()) / ss_tot if ss_tot else None,
        "pearson": pearson(gold, pred),
        "spearman": pearson(ranks(gold), ranks(pred)),
        "pred_mean": float(pred.mean()),
        "pred_std": float(pred.std()),
    }


# ---------------------------------------------------------------- training


class Observer:
    """Counts what model2vec's training loop does, by wrapping three of its helpers."""

    def __init__(self, show_progress):
        import model2vec.train.base as base
        import model2vec.train.trainer as trainer

        self.epochs = 0
        self.steps = 0
        self.samples = 0
        self.validations = []
        self.batch_size = None
        self.train_rows = self.val_rows = None
        self.val_metric = None
        observer = self

        class CountingTqdm(trainer.tqdm):
            def __init__(self, iterable, **kw):
                observer.epochs += 1
                super().__init__(iterable, disable=not show_progress, **kw)

            def __iter__(self):
                for x, y in super().__iter__():
                    observer.steps += 1
                    observer.samples += len(y)
                    yield x, y

        run_training_loop = base.run_training_loop
        run_validation = trainer._run_validation

        def training_loop(**kw):
            observer.train_rows = len(kw["train_loader"].dataset)
            observer.val_rows = len(kw["val_loader"].dataset)
            observer.batch_size = kw["train_loader"].batch_sampler.batch_size
            observer.val_metric = kw["val_metric"]
            return run_training_loop(**kw)

        def validation(*args, **kw):
            metrics = run_validation(*args, **kw)
            self.validations.append({"epoch": self.epochs, "step": self.steps,
                                     **{k: round(v, 6) for k, v in metrics.items()}})
            return metrics

        trainer.tqdm = CountingTqdm
        trainer._run_validation = validation
        base.run_training_loop = training_loop

    def best(self, direction):
        values = [v[self.val_metric] for v in self.validations]
        if not values:
            return None
        pick = max if direction == "max" else min
        return self.validations[values.index(pick(values))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datasets", nargs="+", help="bonepick-layout dataset directories")
    ap.add_argument("--text", default=".text", help="jq-like path of the text (default .text)")
    ap.add_argument("--label", default=".score", help="jq-like path of the label (default .score)")
    ap.add_argument("--binary-threshold", type=float,
                    help='label "neg" if the numeric label is below this, else "pos"')
    ap.add_argument("--regression", action="store_true",
                    help="fit StaticModelForRegression on the numeric label")
    ap.add_argument("--model", default=str(DEFAULT_MODEL), help="model2vec static model folder")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads(N) (and tokenizers' pool)")
    ap.add_argument("--save", help="save the trained pipeline to this folder")
    ap.add_argument("--progress", action="store_true", help="show model2vec's progress bars")
    args = ap.parse_args()
    if args.regression and args.binary_threshold is not None:
        ap.error("--binary-threshold is for classification")
    if args.threads:
        # Read by the tokenizers crate's thread pool when it starts.
        os.environ["RAYON_NUM_THREADS"] = str(args.threads)

    in_venv()

    import model2vec
    import numpy as np
    import torch
    from model2vec.train import StaticModelForClassification, StaticModelForRegression

    if args.threads:
        torch.set_num_threads(args.threads)

    def to_label(value, where):
        if args.regression or args.binary_threshold is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    sys.exit(f"{where}: label {value!r} is not a number")
            if args.regression:
                return [float(value)]
            return "neg" if value < args.binary_threshold else "pos"
        return str(value)

    text_steps, label_steps = parse_path(args.text), parse_path(args.label)
    splits = {s: read_split(args.datasets, s, text_steps, label_steps, to_label)
              for s in ("train", "valid", "test")}
    if not splits["train"] or not splits["train"][0]:
        sys.exit("no train rows")
    if not splits["test"] or not splits["test"][0]:
        sys.exit("no test rows")
    (x_train, y_train), (x_test, y_test) = splits["train"], splits["test"]
    x_val, y_val = splits["valid"] if splits["valid"] and splits["valid"][0] else (None, None)

    cls = StaticModelForRegression if args.regression else StaticModelForClassification
    model = cls.from_pretrained(path=args.model)
    observer = Observer(args.progress)
    started = time.perf_counter()
    model.fit(x_train, y_train, X_val=x_val, y_val=y_val)
    train_seconds = time.perf_counter() - started

    # The trained torch model cuts texts at max_length * 10 characters before tokenizing; the
    # pipeline it converts to (what --save writes, what is used for inference) cuts them at
    # max_length * median token length, as StaticModel.encode does. Both are scored.
    started = time.perf_counter()
    pipeline = model.to_pipeline()
    if args.regression:
        gold = [y[0] for y in y_test]
        out = model.encode(x_test)[:, 0]
        metrics = regression_metrics(gold, out)
        pipe_out = np.asarray(pipeline.predict(x_test, use_multiprocessing=False),
                              dtype=np.float64).reshape(len(x_test), -1)[:, 0]
        pipe = regression_metrics(gold, pipe_out)
        pipe = {k: pipe[k] for k in ("mse", "mae", "r2", "spearman")}
    else:
        out = model.predict_proba(x_test)
        metrics = classification_metrics(list(model.classes_), y_test, out)
        pipe_out = pipeline.predict_proba(x_test, use_multiprocessing=False)
        pipe = classification_metrics(list(pipeline.classes_), y_test, pipe_out)
        pipe = {k: pipe[k] for k in ("macro_f1", "macro_auc", "accuracy")}
    pipe["max_abs_diff"] = float(np.abs(np.asarray(pipe_out) - np.asarray(out)).max())
    eval_seconds = time.perf_counter() - started

    if args.save:
        pipeline.save_pretrained(args.save)

    best = observer.best(cls.early_stopping_direction)
    report = {
        "task": "regression" if args.regression else "classification",
        **{k: v for k, v in metrics.items() if k != "classes"},
        "epochs": observer.epochs,
        "best_epoch": best["epoch"] if best else None,
        "steps": observer.steps,
        "train_seconds": round(train_seconds, 3),
        "samples_per_s": round(observer.samples / train_seconds, 1),
        "eval_seconds": round(eval_seconds, 3),
        "pipeline": pipe,
        "rows": {"train": len(x_train), "valid": len(x_val) if x_val else 0, "test": len(x_test),
                 "fit_train": observer.train_rows, "fit_val": observer.val_rows},
        "batch_size": observer.batch_size,
        "val_metric": observer.val_metric,
        "validations": observer.validations,
        "classes": metrics.get("classes"),
        "setup": {"model2vec": model2vec.__version__, "torch": torch.__version__,
                  "numpy": np.__version__, "threads": torch.get_num_threads(),
                  "model": args.model, "max_length": model.max_length,
                  "head": [str(m) for m in model.head], "datasets": args.datasets,
                  "text": args.text, "label": args.label,
                  "binary_threshold": args.binary_threshold, "saved": args.save},
    }
    if report["classes"] is None:
        del report["classes"]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Pipelines trained by pick, loaded by Python model2vec 0.10.0: the same probabilities.

pick trains a 5-class classifier and a regressor on data-samples (`.metadata.code_quality.score`)
from the committed base model, then scores the test split in SQL (`model2vec_predict`). Python
model2vec loads the saved folders with `StaticModelPipeline.from_pretrained` and scores the same
texts (`predict_proba`, `predict`). The largest difference is printed; the script fails above
1e-5.

    python3 scripts/model2vec_python_parity.py [--pick PATH]

Creates a venv under ~/.cache/pick-model2vec (model2vec 0.10.0 from PyPI, shared with
make_model2vec_fixture.py) and re-runs itself in it.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("PICK_M2V_CACHE", Path.home() / ".cache" / "pick-model2vec"))
VENV = CACHE / "venv"
BASE = REPO / "models" / "model2vec" / "potion-8m-pca64"
SAMPLES = REPO / "data-samples"
TOLERANCE = 1e-5


def in_venv():
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "--quiet", "model2vec==0.10.0", "zstandard"],
            check=True,
        )
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), *sys.argv])


def pick(binary, *args):
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pick {' '.join(args)}: {done.stderr}")
    return done.stdout


def main():
    in_venv()
    import numpy as np
    from model2vec.inference import StaticModelPipeline

    ap = argparse.ArgumentParser()
    ap.add_argument("--pick", default=os.environ.get("PICK_BIN", "pick"))
    args = ap.parse_args()

    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in [("classifier", []), ("regressor", ["--regression"])]:
            out = Path(tmp) / name
            pick(args.pick, "-q", "train-model2vec", "-d", str(SAMPLES), "-o", str(out),
                 "-m", str(BASE), "-ll", ".metadata.code_quality.score", *extra)
            folder = out / "model"
            rows = json.loads(pick(
                args.pick, "sql", "--format", "json", "-d", f"t={SAMPLES}",
                f"SELECT text, model2vec_predict('{folder}', text) AS p FROM t "
                "WHERE _split = 'test' ORDER BY _file, _row",
            ))
            texts = [r["text"] for r in rows]
            pipeline = StaticModelPipeline.from_pretrained(folder)
            if name == "classifier":
                classes = [str(c) for c in pipeline.classes_]
                want = pipeline.predict_proba(texts)
                got = np.array([[r["p"][c] for c in classes] for r in rows])
            else:
                want = np.asarray(pipeline.predict(texts), dtype=np.float64).reshape(-1)
                got = np.array([r["p"] for r in rows], dtype=np.float64)
            diff = float(np.max(np.abs(got - want)))
            worst = max(worst, diff)
            print(json.dumps({"pipeline": name, "texts": len(texts), "max_abs_difference": diff}))
    if worst > TOLERANCE:
        sys.exit(f"largest difference {worst} > {TOLERANCE}")


if __name__ == "__main__":
    main()

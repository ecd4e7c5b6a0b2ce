"""How close two static models are: the distilled rows (token by token, PCA signs aligned by
the best of each column's sign) and sentence vectors of data-samples texts. Models with
clustered rows (--vocabulary-quantization) have no common basis: for those, and for all, the
pairwise similarities of the sentences are compared (Pearson over the pairs).

usage: python compare.py PICK_MODEL PYTHON_MODEL [TEXTS.jsonl.zst ...]
needs: model2vec, numpy, zstandard (or the texts as plain .jsonl)
"""
import json
import sys

import numpy as np
from model2vec import StaticModel

ours, theirs = StaticModel.from_pretrained(sys.argv[1]), StaticModel.from_pretrained(sys.argv[2])
assert ours.tokens == theirs.tokens, "the vocabularies differ"
clustered = ours.embedding.shape[0] != len(ours.tokens) or theirs.embedding.shape[0] != len(theirs.tokens)
signs = 1
if not clustered:
    a = ours.embedding.astype(np.float64)
    b = theirs.embedding.astype(np.float64)
    # A component's sign is a convention: align each column by its agreement with the other's.
    signs = np.sign((a * b).sum(0))
    signs[signs == 0] = 1
    a = a * signs
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-30)
    print(f"tokens {len(ours.tokens)}, dim {a.shape[1]}; sign flips {(signs < 0).sum()}")
    print(f"token rows: mean cosine {cos.mean():.5f}, min {cos.min():.5f}")
else:
    print(f"tokens {len(ours.tokens)}; rows {ours.embedding.shape} vs {theirs.embedding.shape} (clustered)")

texts = []
for path in sys.argv[3:]:
    if path.endswith(".zst"):
        import io, zstandard
        data = zstandard.ZstdDecompressor().stream_reader(open(path, "rb")).read().decode()
    else:
        data = open(path).read()
    texts += [json.loads(l)["text"] for l in data.splitlines() if l.strip()]
if texts:
    ea = ours.encode(texts[:2000]) * signs
    eb = theirs.encode(texts[:2000])
    if not clustered:
        c = (ea * eb).sum(1) / (np.linalg.norm(ea, axis=1) * np.linalg.norm(eb, axis=1) + 1e-30)
        print(f"sentences: {len(ea)}, mean cosine {c.mean():.5f}, min {c.min():.5f}")

    def sims(e):
        e = e / (np.linalg.norm(e, axis=1, keepdims=True) + 1e-30)
        s = e @ e.T
        return s[np.triu_indices(len(e), 1)]

    sa, sb = sims(ea), sims(eb)
    print(f"pairwise sentence similarities: {len(sa)} pairs, Pearson {np.corrcoef(sa, sb)[0, 1]:.5f}")

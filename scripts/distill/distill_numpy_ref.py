"""Reference `model2vec.distill` (0.10.0) WITHOUT torch: model2vec's and skeletoken's own code for the
vocabulary/tokenizer, model2vec's own numpy post-processing (compute_weights / apply_pca, taken from
model2vec/distill/inference.py by source so the numerics are its code), quantization and saving, and a
numpy float32 BERT forward (HF BertModel semantics, eager attention) in place of torch.

usage: python distill_numpy_ref.py MODEL_DIR OUT_DIR [--pca-dims 256|auto|0.9|none] [--sif 1e-4]
       [--pooling mean|first|last|pooler] [--quantize-to float16|float32|float64|int8]
       [--vocabulary FILE] [--vocabulary-quantization K]
needs: model2vec==0.10.0, skeletoken 0.6.x, transformers<5.4 (no torch needed), tokenizers, numpy,
scipy, safetensors (and scikit-learn for --vocabulary-quantization).
"""
import argparse
import ast
import json
import logging
import os
import re
from pathlib import Path
from typing import cast

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from skeletoken import TokenizerModel
from transformers import AutoTokenizer

import model2vec
from model2vec.model import StaticModel
from model2vec.quantization import DType, quantize_embeddings
from model2vec.tokenizer import clean_and_create_vocabulary, turn_tokens_into_ids

logger = logging.getLogger("ref")

# model2vec's own post-processing functions, by source (the module itself imports torch).
_src = Path(model2vec.__file__).parent / "distill" / "inference.py"
_mod = ast.parse(_src.read_text())
_ns = {"np": np, "logger": logger, "cast": cast, "PCADimType": object}
for node in _mod.body:
    if isinstance(node, ast.FunctionDef) and node.name in {"compute_weights", "_pca_fit_transform", "apply_pca"}:
        node.returns = None
        for arg in node.args.args:
            arg.annotation = None
        exec(compile(ast.Module(body=[node], type_ignores=[]), str(_src), "exec"), _ns)
compute_weights, apply_pca = _ns["compute_weights"], _ns["apply_pca"]


class NumpyBert:
    """HF BertModel forward in float32 numpy (dropout off, absolute positions, token_type 0)."""

    def __init__(self, folder: Path):
        self.cfg = json.loads((folder / "config.json").read_text())
        t = load_file(str(folder / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in t else ""
        self.t = {k[len(prefix):]: v.astype(np.float32) for k, v in t.items() if k.startswith(prefix)}
        self.eps = float(self.cfg.get("layer_norm_eps", 1e-12))
        act = self.cfg.get("hidden_act", "gelu")
        if act == "gelu":
            self.act = lambda x: (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(np.float32)
        elif act in ("gelu_new", "gelu_pytorch_tanh"):
            self.act = lambda x: (0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))).astype(np.float32)
        elif act == "relu":
            self.act = lambda x: np.maximum(x, 0)
        else:
            raise ValueError(act)

    def ln(self, x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return ((x - mu) / np.sqrt(var + self.eps)) * self.t[p + ".weight"] + self.t[p + ".bias"]

    def lin(self, x, p):
        return x @ self.t[p + ".weight"].T + self.t[p + ".bias"]

    def __call__(self, ids: np.ndarray, mask: np.ndarray):
        b, s = ids.shape
        nh = self.cfg["num_attention_heads"]
        h = self.cfg["hidden_size"]
        dh = h // nh
        x = (self.t["embeddings.word_embeddings.weight"][ids]
             + self.t["embeddings.position_embeddings.weight"][:s][None]
             + self.t["embeddings.token_type_embeddings.weight"][0][None, None])
        x = self.ln(x, "embeddings.LayerNorm")
        ext = ((1.0 - mask.astype(np.float32)) * np.finfo(np.float32).min)[:, None, None, :]
        for l in range(self.cfg["num_hidden_layers"]):
            p = f"encoder.layer.{l}."
            q, k, v = (self.lin(x, p + f"attention.self.{n}").reshape(b, s, nh, dh).transpose(0, 2, 1, 3)
                       for n in ("query", "key", "value"))
            sc = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(dh)) + ext
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            pr = sc / sc.sum(-1, keepdims=True)
            ctx = (pr @ v).transpose(0, 2, 1, 3).reshape(b, s, h)
            a = self.ln(self.lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            i = self.act(self.lin(a, p + "intermediate.dense"))
            x = self.ln(self.lin(i, p + "output.dense") + a, p + "output.LayerNorm")
        pooler = np.tanh(self.lin(x[:, 0], "pooler.dense")) if "pooler.dense.weight" in self.t else None
        return x.astype(np.float32), pooler


def create_embeddings(bert, tokenized, pad_token_id, pooling, row_of):
    """model2vec's create_embeddings (sort by length, batches of 256, pad, mask from lengths)."""
    out = []
    lengths = np.asarray([len(s) for s in tokenized])
    order = np.argsort(lengths)
    srt = [tokenized[i] for i in order]
    for b0 in range(0, len(srt), 256):
        batch = srt[b0:b0 + 256]
        s = max(len(x) for x in batch)
        ids = np.full((len(batch), s), pad_token_id, dtype=np.int64)
        for r, x in enumerate(batch):
            ids[r, :len(x)] = x
        mask = (np.arange(s)[None, :] < np.asarray([len(x) for x in batch])[:, None]).astype(np.int64)
        hidden, pooler = bert(row_of[ids], mask)  # pruned-tokenizer ids -> original embedding rows
        if pooling == "mean":
            m = mask.astype(np.float32)
            m = m / np.maximum(m.sum(1, keepdims=True), 1.0)
            o = np.einsum("bs,bsh->bh", m, hidden)
        elif pooling == "first":
            o = hidden[:, 0]
        elif pooling == "last":
            last = np.maximum(mask.sum(1) - 1, 0)
            o = hidden[np.arange(len(batch)), last]
        elif pooling == "pooler":
            o = pooler
        out.extend(o.astype(np.float32))
    out = [out[i] for i in np.argsort(order)]
    return np.nan_to_num(np.stack(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--pca-dims", default="256")
    ap.add_argument("--sif", type=float, default=1e-4)
    ap.add_argument("--token-remove-pattern", default=r"\[unused\d+\]")
    ap.add_argument("--pooling", default="mean")
    ap.add_argument("--quantize-to", default="float16")
    ap.add_argument("--vocabulary")
    ap.add_argument("--vocabulary-quantization", type=int)
    a = ap.parse_args()
    pca = a.pca_dims
    # bonepick's PCADimTypeParamType: "auto" (any case), else float(value), int if integral.
    if pca == "none":
        pca = None
    elif pca.lower() == "auto":
        pca = "auto"
    else:
        pca = float(pca)
        pca = int(pca) if pca.is_integer() else pca
    vocabulary = [l.strip() for l in open(a.vocabulary)] if a.vocabulary else []
    folder = Path(a.model)

    tokenizer = AutoTokenizer.from_pretrained(a.model, use_fast=True)
    orig = TokenizerModel.from_transformers_tokenizer(tokenizer).prune_added_tokens()
    tm = orig.deep_copy()
    if tm.adds_prefix_space is not None:
        tm.adds_prefix_space = True
    tm = clean_and_create_vocabulary(tm, vocabulary, token_remove_regex=re.compile(a.token_remove_pattern))
    all_tokens = tm.sorted_vocabulary
    token_ids = turn_tokens_into_ids(all_tokens, orig)
    # skeletoken.external.transformers.reshape_embeddings: row new_id <- old row (model_delta.token_mapping)
    mapping = orig.model_delta.token_mapping
    row_of = np.asarray([mapping[i] for i in range(orig.vocabulary_size)], dtype=np.int64)

    emb = create_embeddings(NumpyBert(folder), token_ids, orig.pad_token_id or 0, a.pooling, row_of)
    if a.vocabulary_quantization is not None:
        from model2vec.vocabulary_quantization import quantize_vocabulary
        weights = compute_weights(len(emb), sif_coefficient=a.sif)
        emb, token_mapping, weights = quantize_vocabulary(n_clusters=a.vocabulary_quantization, weights=weights, embeddings=emb)
        emb = apply_pca(emb, pca)
    else:
        weights = compute_weights(len(emb), sif_coefficient=a.sif)
        emb = apply_pca(emb, pca)
        emb = emb * weights[:, None]
        weights, token_mapping = None, None
    emb = quantize_embeddings(emb, DType(a.quantize_to))
    config = {"model_type": "model2vec", "architectures": ["StaticModel"], "tokenizer_name": a.model,
              "apply_pca": pca, "sif_coefficient": a.sif, "hidden_dim": emb.shape[1], "seq_length": 1000000,
              "normalize": True, "pooling": a.pooling}
    StaticModel(vectors=emb, weights=weights, token_mapping=token_mapping, tokenizer=tm.to_tokenizer(),
                config=config, base_model_name=os.path.basename(a.model), language=None,
                normalize=True).save_pretrained(a.out)
    print(f"saved {a.out}: {emb.shape} {emb.dtype}")


if __name__ == "__main__":
    main()

"""Make a tiny random BERT folder without torch or the hub (numpy + safetensors + tokenizers).

Writes config.json, model.safetensors (HF BertModel names, no "bert." prefix, with pooler),
tokenizer.json (BertNormalizer + BertPreTokenizer + WordPiece + [CLS]/[SEP] template),
tokenizer_config.json, special_tokens_map.json, vocab.txt.

usage: python make_tiny_bert.py OUT_DIR [--hidden 32 --layers 2 --heads 4 --inter 64 --seed 0]
needs: numpy, safetensors, tokenizers (all small wheels; no torch).
"""
import argparse
import json
import string
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--hidden", type=int, default=32)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--heads", type=int, default=4)
ap.add_argument("--inter", type=int, default=64)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)

# BERT-like id layout: [PAD]=0, [unused0..9], [UNK], [CLS], [SEP], [MASK], then chars, words, ##pieces.
specials = ["[PAD]"] + [f"[unused{i}]" for i in range(10)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
chars = list(string.ascii_lowercase) + list(string.digits) + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
words = ("the of and to in is was for on as with by he at from his an were are which this be or "
         "has had one not but its new first two after who they have her she year been other when "
         "there all during into school time may years more most only over city some world would "
         "where later up such used many can state about national out known university united then "
         "made hello token static model vector embed data test distill").split()
pieces = ["##" + c for c in string.ascii_lowercase] + ["##ing", "##ed", "##s", "##er", "##ly", "##tion"]
vocab_list = list(dict.fromkeys(specials + chars + words + pieces))
vocab = {t: i for i, t in enumerate(vocab_list)}
(out / "vocab.txt").write_text("\n".join(vocab_list) + "\n")

tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", continuing_subword_prefix="##",
                                 max_input_chars_per_word=100))
tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                            strip_accents=None, lowercase=True)
tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
tok.post_processor = processors.TemplateProcessing(
    single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
    special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
# Fixed padding, as all-MiniLM-L6-v2's tokenizer has (Fixed(128)): model2vec embeds the words of
# a --vocabulary file from their padded encoding, so the fixture exercises that.
tok.enable_truncation(max_length=32)
tok.enable_padding(length=16, pad_id=vocab["[PAD]"], pad_token="[PAD]")
tok.save(str(out / "tokenizer.json"))

sp = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}
(out / "special_tokens_map.json").write_text(json.dumps(sp))
(out / "tokenizer_config.json").write_text(json.dumps(
    {"do_lower_case": True, "tokenizer_class": "BertTokenizer", "model_max_length": 512, **sp}))

H, L, NH, I, V, P = a.hidden, a.layers, a.heads, a.inter, len(vocab_list), 64
cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": V, "hidden_size": H,
       "num_hidden_layers": L, "num_attention_heads": NH, "intermediate_size": I, "hidden_act": "gelu",
       "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "max_position_embeddings": P,
       "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
       "position_embedding_type": "absolute", "use_cache": True, "classifier_dropout": None}
(out / "config.json").write_text(json.dumps(cfg, indent=2))

rng = np.random.default_rng(a.seed)
def w(*shape, s=0.2):
    return (rng.standard_normal(shape) * s).astype(np.float32)
t = {
    "embeddings.word_embeddings.weight": w(V, H, s=1.0),
    "embeddings.position_embeddings.weight": w(P, H),
    "embeddings.token_type_embeddings.weight": w(2, H),
    "embeddings.LayerNorm.weight": 1 + w(H, s=0.05), "embeddings.LayerNorm.bias": w(H, s=0.05),
    "pooler.dense.weight": w(H, H), "pooler.dense.bias": w(H, s=0.05),
}
for l in range(L):
    p = f"encoder.layer.{l}."
    for n in ("query", "key", "value"):
        t[p + f"attention.self.{n}.weight"] = w(H, H); t[p + f"attention.self.{n}.bias"] = w(H, s=0.05)
    t[p + "attention.output.dense.weight"] = w(H, H); t[p + "attention.output.dense.bias"] = w(H, s=0.05)
    t[p + "attention.output.LayerNorm.weight"] = 1 + w(H, s=0.05); t[p + "attention.output.LayerNorm.bias"] = w(H, s=0.05)
    t[p + "intermediate.dense.weight"] = w(I, H); t[p + "intermediate.dense.bias"] = w(I, s=0.05)
    t[p + "output.dense.weight"] = w(H, I); t[p + "output.dense.bias"] = w(H, s=0.05)
    t[p + "output.LayerNorm.weight"] = 1 + w(H, s=0.05); t[p + "output.LayerNorm.bias"] = w(H, s=0.05)
save_file(t, str(out / "model.safetensors"), metadata={"format": "pt"})
print(f"wrote {out}: vocab {V}, hidden {H}, layers {L}")

"""The forward pass of a BERT folder as PyTorch computes it (transformers' BertModel, eval mode),
on fixed inputs, for pick's test of its own forward (tests/fixtures/tiny-bert/forward.json).

usage: python torch_reference.py MODEL_DIR OUT.json
needs: torch, transformers (scripts/distill/setup.sh makes a venv with both)

The inputs are what distillation feeds the model: `[CLS] tok [SEP]` rows for a few tokens, and
a longer row with the batch padding masked, in one batch. Written: the input ids and attention
mask, `last_hidden_state` [batch, seq, hidden] and `pooler_output` [batch, hidden], as nested
lists of float32 values.
"""
import json
import sys
from pathlib import Path

import torch
from transformers import BertModel

model_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
config = json.loads((model_dir / "config.json").read_text())
vocab = json.loads((model_dir / "tokenizer.json").read_text())["model"]["vocab"]
cls, sep, pad = vocab["[CLS]"], vocab["[SEP]"], vocab["[PAD]"]

words = ["the", "hello", "##ing", "[UNK]", "[PAD]", "7"]
rows = [[cls, vocab[w], sep] for w in words]
rows.append([cls] + [vocab[w] for w in ["hello", "world", "static", "model", "##s", "!"]] + [sep])
width = max(len(r) for r in rows)
ids = [r + [pad] * (width - len(r)) for r in rows]
mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows]

torch.manual_seed(0)
model = BertModel.from_pretrained(model_dir, attn_implementation="eager").eval()
with torch.inference_mode():
    output = model(
        input_ids=torch.tensor(ids),
        attention_mask=torch.tensor(mask),
        token_type_ids=torch.zeros(len(ids), width, dtype=torch.long),
    )
out.write_text(
    json.dumps(
        {
            "made_by": f"torch {torch.__version__}, transformers BertModel, {sys.argv[0]}",
            "hidden_size": config["hidden_size"],
            "input_ids": ids,
            "attention_mask": mask,
            "last_hidden_state": output.last_hidden_state.float().tolist(),
            "pooler_output": output.pooler_output.float().tolist(),
        }
    )
    + "\n"
)
print(f"wrote {out}: batch {len(ids)} x {width}")

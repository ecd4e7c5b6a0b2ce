#!/usr/bin/env python3
"""Record bonepick 0.5.0's normalizer outputs on the edge cases of spec §11 (control characters
\\x1c-\\x1f, combining marks, empty and blank texts, Unicode newer than Python's tables, ...).

Run with bonepick's venv:
  ~/.cache/pick-bench/bonepick-venv/bin/python scripts/normalizer_fixtures.py > crates/pick-text/src/normalizers.edge.jsonl
"""
import json

from bonepick.data.normalizers import get_normalizer, list_normalizers

CASES = [
    "",
    " ",
    "\x1c\x1d\x1e\x1f",
    "a\x1cb\x1dc\x1ed\x1ff",
    "field\x1frecord\x1egroup\x1dfile\x1c end",
    "e\u0301 a\u0308 o\u0302\u0323 n\u0303",
    "\u0301 leading combining mark",
    "Z\u0351\u0345\u0353a\u0364\u033dl\u0312g\u0360o\u0310",
    "\u1100\u1161\u11a8 \uac01 \ud55c\uad6d",
    "\ufeffbom \u200bzero width \u00adsoft hyphen",
    "tab\tand\u000bvertical\u000cform feed",
    "\r\r\n\n\r\n\r\n\r\n",
    "\u2028\u2029\u0085",
    "'s 'S 'LL 'Re don't I'M",
    "\ua7dc new in Unicode 16 \U0001ccf0",
    "ΣΑΣ ΟΔΟΣ σ ς",
    "İstanbul ıi",
    "x" * 300 + " " + "é" * 300,
    "   indented\n      more\n   back\n\tTab",
    "1234567890 ١٢٣ ½ Ⅻ ²",
    "<|endoftext|><|im_start|>system\n<|im_end|>",
    "mail a.b-c@d.example.co.uk or x@y.io; see http://a.b:8080/p/q?r=(1) and www.c.org/[x]",
]


def main():
    for name in list_normalizers():
        n = get_normalizer(name)
        for i, text in enumerate(CASES):
            out = n.normalize(text)
            print(json.dumps({"normalizer": name, "case": i, "input": text, "output": out}, ensure_ascii=False))


if __name__ == "__main__":
    main()

//! The distilled model's vocabulary, as model2vec 0.10 (with skeletoken 0.6) makes it from a
//! WordPiece tokenizer: the original vocabulary in id order, less the added tokens other
//! than the unknown and padding tokens (`[MASK]`, `[CLS]`, `[SEP]`) and less the tokens the
//! removal pattern matches at their start (Python's `re.match`). Each row is embedded from
//! `[CLS] token [SEP]` in the original ids. Words of a `--vocabulary` file are added after
//! them (`additions`). The new tokenizer is the old one renumbered densely, without
//! post-processor, padding to nothing, truncating at 512.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::{Value, json};

use crate::error::DistillError;
use crate::words;

pub struct Vocabulary {
    /// The distilled model's tokens, in row order.
    pub tokens: Vec<String>,
    /// Each row's input to the transformer, in the original tokenizer's ids.
    pub inputs: Vec<Vec<u32>>,
    /// The padding token's original id (for padding batches).
    pub pad_id: u32,
    /// The distilled model's `tokenizer.json`.
    pub tokenizer: Value,
}

/// The vocabulary of the tokenizer in `dir`, less what `remove` matches at a token's start,
/// plus the entries of `additions` (`crate::words`).
pub fn build(
    dir: &Path,
    remove: Option<&str>,
    additions: &[String],
) -> Result<Vocabulary, DistillError> {
    let path = dir.join("tokenizer.json");
    let text = std::fs::read_to_string(&path).map_err(|source| DistillError::Io {
        path: path.clone(),
        source,
    })?;
    let bad = |m: String| DistillError::bad(&path, m);
    let mut tokenizer: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let model = &tokenizer["model"];
    match model["type"].as_str() {
        Some("WordPiece") => {}
        other => {
            return Err(DistillError::Unsupported {
                path: path.clone(),
                message: format!(
                    "a {} tokenizer is not supported: pick distils models with a WordPiece \
                     tokenizer (BERT's)",
                    other.unwrap_or("(typeless)")
                ),
            });
        }
    }
    let vocab = model["vocab"]
        .as_object()
        .ok_or_else(|| bad("model.vocab is not a map of tokens to ids".into()))?;
    let mut by_id: Vec<(u32, String)> = vocab
        .iter()
        .map(|(t, id)| {
            id.as_u64()
                .map(|id| (id as u32, t.clone()))
                .ok_or_else(|| bad(format!("the id of `{t}` is not a number")))
        })
        .collect::<Result<_, _>>()?;
    by_id.sort();
    let id_of = |t: &str| vocab.get(t).and_then(Value::as_u64).map(|i| i as u32);

    let unk = model["unk_token"].as_str().map(str::to_string);
    let pad = pad_token(dir, &tokenizer);
    let (bos, eos) =
        bos_eos(&tokenizer).ok_or_else(|| {
            bad("no [CLS]/[SEP] around a sequence in the post-processor: pick embeds each token as \
             `[CLS] token [SEP]`"
            .into())
        })?;
    let added: HashSet<String> = tokenizer["added_tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["content"].as_str().map(str::to_string))
        .collect();
    let keep_added = |t: &str| Some(t) == unk.as_deref() || Some(t) == pad.as_deref();
    let pattern = remove
        .map(|p| {
            fancy_regex::Regex::new(&format!("^(?:{p})")).map_err(|e| {
                DistillError::Usage(format!(
                    "--token-remove-pattern `{p}` does not compile: {e}"
                ))
            })
        })
        .transpose()?;
    let removed = |t: &str| {
        pattern
            .as_ref()
            .is_some_and(|re| re.is_match(t).unwrap_or(false))
    };
    // The tokens model2vec still knows once the other added tokens are dropped; [CLS] and
    // [SEP] among them until the end.
    let known: Vec<(u32, &str)> = by_id
        .iter()
        .filter(|(id, t)| !added.contains(t) || keep_added(t) || *id == bos || *id == eos)
        .map(|(id, t)| (*id, t.as_str()))
        .collect();
    // The unknown token of a WordPiece model cannot go.
    let current: Vec<(u32, &str)> = known
        .iter()
        .copied()
        .filter(|(_, t)| !removed(t) || Some(*t) == unk.as_deref())
        .collect();
    let extra = if additions.is_empty() {
        (words::Added::default(), Vec::new())
    } else {
        let pad_token = pad.as_deref().and_then(|p| Some((p, id_of(p)?)));
        let tk = words::original(dir, &text, pad_token)?;
        let known_ids: HashMap<&str, u32> = known.iter().map(|&(id, t)| (t, id)).collect();
        let added = words::sort(
            &tk,
            additions,
            &known_ids.keys().copied().collect(),
            &current.iter().map(|(_, t)| *t).collect(),
            &removed,
        )?;
        let ids = |t: &str| -> Result<Vec<u32>, DistillError> {
            if let Some(&id) = known_ids.get(t) {
                return Ok(vec![bos, id, eos]);
            }
            tk.encode(t, true)
                .map(|e| e.get_ids().to_vec())
                .map_err(|e| DistillError::bad(&path, format!("encoding `{t}`: {e}")))
        };
        let inputs = added
            .words
            .iter()
            .chain(&added.phrases)
            .map(|t| ids(t))
            .collect::<Result<Vec<_>, _>>()?;
        (added, inputs)
    };
    let mut tokens = Vec::new();
    let mut inputs = Vec::new();
    for &(id, token) in &current {
        // [CLS] and [SEP] go with the post-processor.
        if (added.contains(token) && !keep_added(token)) || extra.0.displaced.contains(token) {
            continue;
        }
        tokens.push(token.to_string());
        inputs.push(vec![bos, id, eos]);
    }
    let regular = tokens.len() + extra.0.words.len();
    tokens.extend(extra.0.words.iter().chain(&extra.0.phrases).cloned());
    inputs.extend(extra.1);
    if tokens.is_empty() {
        return Err(DistillError::Usage(
            "the vocabulary is empty once the removal pattern is applied: check \
             --token-remove-pattern"
                .into(),
        ));
    }
    let pad_id = pad.as_deref().and_then(id_of).unwrap_or(0);

    // The new tokenizer: dense ids, the kept added tokens renumbered, no post-processor.
    let new_id = |t: &str| tokens.iter().position(|x| x == t);
    let mut new_vocab = serde_json::Map::new();
    for (i, t) in tokens.iter().enumerate() {
        new_vocab.insert(t.clone(), json!(i));
    }
    let mut added_tokens: Vec<Value> = tokenizer["added_tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let content = t["content"].as_str()?;
            let id = new_id(content).filter(|&i| i < regular)?;
            keep_added(content).then(|| {
                let mut t = t.clone();
                t["id"] = json!(id);
                t
            })
        })
        .collect();
    // Phrases are added tokens that strip the spaces around them, as skeletoken adds them.
    added_tokens.extend(tokens[regular..].iter().enumerate().map(|(i, t)| {
        json!({
            "id": regular + i, "content": t, "single_word": false, "lstrip": true,
            "rstrip": true, "normalized": true, "special": false,
        })
    }));
    tokenizer["model"]["vocab"] = Value::Object(new_vocab);
    tokenizer["added_tokens"] = Value::Array(added_tokens);
    tokenizer["post_processor"] = Value::Null;
    tokenizer["truncation"] = json!({
        "direction": "Right", "max_length": 512, "strategy": "LongestFirst", "stride": 0
    });
    tokenizer["padding"] = match pad.as_deref().and_then(new_id).filter(|&i| i < regular) {
        Some(id) => json!({
            "strategy": {"Fixed": 0}, "direction": "Right", "pad_to_multiple_of": null,
            "pad_id": id, "pad_type_id": 0, "pad_token": pad,
        }),
        None => Value::Null,
    };
    Ok(Vocabulary {
        tokens,
        inputs,
        pad_id,
        tokenizer,
    })
}

/// The padding token, as transformers finds it: `special_tokens_map.json`, then
/// `tokenizer_config.json`, then the tokenizer's own padding.
fn pad_token(dir: &Path, tokenizer: &Value) -> Option<String> {
    let from = |file: &str| -> Option<String> {
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        match &v["pad_token"] {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
            _ => None,
        }
    };
    from("special_tokens_map.json")
        .or_else(|| from("tokenizer_config.json"))
        .or_else(|| {
            tokenizer["padding"]["pad_token"]
                .as_str()
                .map(str::to_string)
        })
}

/// The ids around a single sequence: the special tokens that start and end the
/// post-processor's template (or BERT's processor's `cls` and `sep`).
fn bos_eos(tokenizer: &Value) -> Option<(u32, u32)> {
    let post = &tokenizer["post_processor"];
    let special_id = |name: &str| -> Option<u32> {
        post["special_tokens"][name]["ids"][0]
            .as_u64()
            .map(|i| i as u32)
    };
    match post["type"].as_str()? {
        "TemplateProcessing" => {
            let single = post["single"].as_array()?;
            let first = single.first()?["SpecialToken"]["id"].as_str()?;
            let last = single.last()?["SpecialToken"]["id"].as_str()?;
            Some((special_id(first)?, special_id(last)?))
        }
        "BertProcessing" | "RobertaProcessing" => Some((
            post["cls"][1].as_u64()? as u32,
            post["sep"][1].as_u64()? as u32,
        )),
        _ => None,
    }
}

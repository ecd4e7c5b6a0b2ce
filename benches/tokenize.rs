//! pick's hand-written tokenizers against the `tokenizers` crate, Rust against Rust, on the same
//! `tokenizer.json` and the same texts (data-samples, 15 MB of code and prose), one thread each:
//! MB/s and the ratio. The byte-level BPE (`pick-text`, both bundled tokenizers) and the BERT
//! WordPiece fast path of Model2Vec (`pick-model2vec/src/wordpiece.rs`, potion-base's
//! tokenizer). Their ids equal the crate's (`pick-text/src/tokenizer/parity.rs`, the tests in
//! `wordpiece.rs`); this measures whether each earns its place (at least 2x the crate).
//!
//!     cargo bench --bench tokenize

use std::time::Instant;

#[path = "data_samples.rs"]
mod data_samples;

fn texts() -> Vec<String> {
    data_samples::texts(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples"),
    )
}

/// Best of three runs, in seconds, and the ids produced (to keep the work observable).
fn best(mut run: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::INFINITY;
    let mut ids = 0;
    for _ in 0..3 {
        let t = Instant::now();
        ids = run();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, ids)
}

fn main() {
    let texts = texts();
    let mb = texts.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    println!("{} texts, {mb:.1} MB, one thread", texts.len());
    println!("| tokenizer | pick MB/s | tokenizers crate MB/s | pick vs crate |");
    println!("|---|---|---|---|");
    for (name, zst) in [
        (
            "dolma2",
            &include_bytes!("../crates/pick-text/assets/tokenizers/dolma2_tokenizer.json.zst")[..],
        ),
        (
            "ultrafine",
            &include_bytes!(
                "../crates/pick-text/assets/tokenizers/ultra_fineweb_tokenizer.json.zst"
            )[..],
        ),
    ] {
        let json = String::from_utf8(zstd::decode_all(zst).unwrap()).unwrap();
        let ours = pick_text::tokenizer::Tokenizer::from_json(&json).unwrap();
        let mut theirs = tokenizers::Tokenizer::from_bytes(json.as_bytes()).unwrap();
        theirs.with_truncation(None).unwrap();
        theirs.with_padding(None);
        let (t_ours, n_ours) = best(|| {
            let mut out = Vec::new();
            let mut n = 0;
            for t in &texts {
                out.clear();
                ours.encode(t, &mut out);
                n += out.len();
            }
            n
        });
        let (t_theirs, n_theirs) = best(|| {
            texts
                .iter()
                .map(|t| theirs.encode_fast(t.as_str(), false).unwrap().len())
                .sum()
        });
        assert_eq!(n_ours, n_theirs, "{name}: token counts differ");
        println!(
            "| {name} | {:.1} | {:.1} | {:.2}x |",
            mb / t_ours,
            mb / t_theirs,
            t_theirs / t_ours
        );
    }
    let potion = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/model2vec/potion-8m-pca64");
    let model = pick_model2vec::StaticModel::load(&potion).unwrap();
    let (t_ours, n_ours) = best(|| {
        texts
            .iter()
            .map(|t| model.fast_ids(t).expect("potion has the fast path").len())
            .sum()
    });
    let (t_theirs, n_theirs) = best(|| {
        texts
            .iter()
            .map(|t| model.crate_ids(t).unwrap().len())
            .sum()
    });
    assert_eq!(n_ours, n_theirs, "potion: token counts differ");
    println!(
        "| potion (WordPiece) | {:.1} | {:.1} | {:.2}x |",
        mb / t_ours,
        mb / t_theirs,
        t_theirs / t_ours
    );
}

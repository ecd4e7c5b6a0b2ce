//! Model2Vec inference speed, pick's side: `StaticModel::encode` (what `model2vec_embed`,
//! `model2vec_predict` and infer-model2vec run per text) on real potion-base-8M, over
//! data-samples' texts (typical documents, 3–6 KB) and over their first 100 bytes (short texts),
//! on 1 and 2 threads. `benches/model2vec.sh` runs this beside Python model2vec 0.10 and the
//! model2vec-rs crate on the same texts and prints the table.
//!
//!     PICK_M2V_MODEL=~/.cache/pick-model2vec/potion-base-8M cargo bench --bench model2vec

use std::path::PathBuf;
use std::time::Instant;

use pick_model2vec::StaticModel;

#[path = "data_samples.rs"]
mod data_samples;

fn texts() -> Vec<String> {
    data_samples::texts(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples"),
    )
}

/// The first `n` bytes of a text, cut back to a character boundary.
fn head(t: &str, n: usize) -> &str {
    let mut end = n.min(t.len());
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    &t[..end]
}

fn encode_all(model: &StaticModel, texts: &[&str], threads: usize) -> f64 {
    let chunk = texts.len().div_ceil(threads);
    let t = Instant::now();
    let sum: f32 = std::thread::scope(|s| {
        texts
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|x| model.encode(x).unwrap()[0])
                        .sum::<f32>()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum()
    });
    std::hint::black_box(sum);
    t.elapsed().as_secs_f64()
}

fn main() {
    let dir = std::env::var_os("PICK_M2V_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../models/model2vec/potion-8m-pca64")
        });
    let model = StaticModel::load(&dir).unwrap();
    let docs = texts();
    let long: Vec<&str> = docs.iter().map(String::as_str).collect();
    // Short texts: 20 per document, 100 bytes each, so the run is long enough to time.
    let short: Vec<&str> = docs
        .iter()
        .flat_map(|d| {
            (0..20).filter_map(move |k| {
                let start = (k * 100).min(d.len());
                let mut s = start;
                while !d.is_char_boundary(s) {
                    s += 1;
                }
                let h = head(&d[s..], 100);
                (h.len() >= 50).then_some(h)
            })
        })
        .collect();
    println!(
        "model {} ({} dims); {} documents ({:.1} MB), {} short texts",
        dir.display(),
        model.dim(),
        long.len(),
        long.iter().map(|t| t.len()).sum::<usize>() as f64 / 1e6,
        short.len()
    );
    for (name, set) in [("documents", &long), ("short", &short)] {
        for threads in [1, 2] {
            let secs = (0..3)
                .map(|_| encode_all(&model, set, threads))
                .fold(f64::INFINITY, f64::min);
            println!(
                "pick {name} threads={threads}: {:.0} texts/s ({:.0} per core)",
                set.len() as f64 / secs,
                set.len() as f64 / secs / threads as f64
            );
        }
    }
}

//! model2vec-rs 0.4 `encode_single` on the texts benches/model2vec.rs uses (documents, and
//! 100-byte pieces), on 1 and 2 threads; the same output lines as pick's bench.
//!
//!     cargo run --release -- MODEL_DIR DATA_SAMPLES_DIR

use std::time::Instant;

use model2vec_rs::model::StaticModel;

#[path = "../../data_samples.rs"]
mod data_samples;
use data_samples::texts;

fn head(t: &str, n: usize) -> &str {
    let mut end = n.min(t.len());
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    &t[..end]
}

fn run(model: &StaticModel, texts: &[&str], threads: usize) -> f64 {
    let chunk = texts.len().div_ceil(threads);
    let t = Instant::now();
    let sum: f32 = std::thread::scope(|s| {
        texts
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || part.iter().map(|x| model.encode_single(x)[0]).sum::<f32>())
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
    let args: Vec<String> = std::env::args().collect();
    let model = StaticModel::from_pretrained(&args[1], None, None, None).unwrap();
    let docs = texts(std::path::Path::new(&args[2]));
    let long: Vec<&str> = docs.iter().map(String::as_str).collect();
    let short: Vec<&str> = docs
        .iter()
        .flat_map(|d| {
            (0..20).filter_map(move |k| {
                let mut s = (k * 100).min(d.len());
                while !d.is_char_boundary(s) {
                    s += 1;
                }
                let h = head(&d[s..], 100);
                (h.len() >= 50).then_some(h)
            })
        })
        .collect();
    for (name, set) in [("documents", &long), ("short", &short)] {
        for threads in [1, 2] {
            let secs = (0..3)
                .map(|_| run(&model, set, threads))
                .fold(f64::INFINITY, f64::min);
            println!(
                "model2vec-rs {name} threads={threads}: {:.0} texts/s ({:.0} per core)",
                set.len() as f64 / secs,
                set.len() as f64 / secs / threads as f64
            );
        }
    }
}

//! `cargo bench --bench annotate`: how fast `pick annotate-dataset` drives an endpoint, against
//! the tests' OpenAI-compatible server on 127.0.0.1 (in this process, answering at once), so
//! the figure is pick's own cost: 10,000 rows at 1,000 concurrent requests (requests per
//! second and pick's CPU per request), then a resumed run of a finished 100,000-row job,
//! answered from the cache (rows per second). `PICK_BIN=path/to/pick` measures another build
//! of pick (the server stays this process's).

#[path = "../tests/it/fake_llm.rs"]
#[allow(dead_code)]
mod fake_llm;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::json;

fn child_cpu() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn dataset(dir: &Path, rows: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let body =
        "def handler(event):\n    return {'status': 200, 'body': event.get('q')}\n".repeat(8);
    let mut out = String::new();
    for n in 0..rows {
        out.push_str(&json!({"id": n, "text": format!("row-{n}\n{body}")}).to_string());
        out.push('\n');
    }
    std::fs::write(dir.join("rows.jsonl"), out).unwrap();
}

fn annotate(
    server: &fake_llm::FakeLlm,
    input: &Path,
    out: &Path,
    cache: Option<&Path>,
) -> (f64, f64) {
    let prompts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../benches/prompts");
    let bin = std::env::var("PICK_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pick").into());
    let mut c = Command::new(bin);
    c.args([
        "annotate-dataset",
        "-d",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ])
    .args([
        "-m",
        "fake",
        "-T",
        "probe",
        "--prompt-dir",
        prompts,
        "--overwrite",
        "--quiet",
    ])
    .args([
        "--base-url",
        &server.base_url(),
        "--max-concurrent-requests",
        "1000",
    ])
    .args([
        "--max-requests-per-minute",
        "0",
        "--max-tokens-per-minute",
        "0",
    ]);
    match cache {
        Some(c2) => c.args(["--cache-location", c2.to_str().unwrap()]),
        None => c.arg("--disable-cache"),
    };
    let cpu = child_cpu();
    let started = Instant::now();
    let status = c.status().unwrap();
    assert!(status.success());
    (started.elapsed().as_secs_f64(), child_cpu() - cpu)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_llm::FakeLlm::start(fake_llm::no_faults());

    let small = dir.path().join("in10k");
    dataset(&small, 10_000);
    let (wall, cpu) = annotate(&server, &small, &dir.path().join("o1"), None);
    println!(
        "requests: 10,000 rows, 1,000 concurrent: {:.2}s, {:.0} requests/s, pick CPU {:.0} us/request",
        wall,
        10_000.0 / wall,
        cpu / 10_000.0 * 1e6
    );

    let big = dir.path().join("in100k");
    dataset(&big, 100_000);
    let cache = dir.path().join("cache");
    let (wall, _) = annotate(&server, &big, &dir.path().join("o2"), Some(&cache));
    println!(
        "first run, 100,000 rows, cache on: {wall:.2}s, {:.0} rows/s",
        100_000.0 / wall
    );
    let (wall, cpu) = annotate(&server, &big, &dir.path().join("o2"), Some(&cache));
    println!(
        "resumed finished run, 100,000 rows from the cache: {wall:.2}s, {:.0} rows/s, CPU {:.1}s",
        100_000.0 / wall,
        cpu
    );
}

//! The crash harness: every command that writes is killed with SIGKILL at random moments, 20
//! times each. Its output must then be exactly the previous state or exactly the complete
//! output, never a mix, and a rerun must complete and leave no staging behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::fasttext_flow::BINARY;

const KILLS: usize = 20;

/// Every file under `path` (or `path` itself, under the name "") with its bytes.
fn snapshot(path: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    if !path.exists() {
        return None;
    }
    if path.is_file() {
        return Some(BTreeMap::from([(
            String::new(),
            std::fs::read(path).unwrap(),
        )]));
    }
    Some(files_under(path))
}

/// The previous state: a directory (or file) a user had there before.
fn put_previous(out: &Path, file: bool) {
    let _ = std::fs::remove_dir_all(out);
    let _ = std::fs::remove_file(out);
    if file {
        std::fs::write(out, b"the previous file\n").unwrap();
    } else {
        write_file(&out.join("PREVIOUS.txt"), b"the previous output\n");
    }
}

/// Hidden staging and temporary entries beside `out`.
fn leftovers(out: &Path) -> Vec<String> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")))
        .collect()
}

/// A small xorshift: the kill moments differ per command but not per run.
struct Moments(u64);

impl Moments {
    fn next(&mut self, below: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        below.mul_f64((self.0 % 10_000) as f64 / 10_000.0)
    }
}

/// Runs `args` (writing `out`) to completion once, then kills it at random moments.
fn harness(tmp: &Path, name: &str, args: &[&str], file_output: bool) {
    let out = tmp.join(if file_output {
        format!("out-{name}.parquet")
    } else {
        format!("out-{name}")
    });
    let with_out = |out: &Path| -> Vec<String> {
        let mut a: Vec<String> = args.iter().map(|s| s.replace("{out}", s_(out))).collect();
        if !file_output {
            a.push("--overwrite".into());
        }
        a
    };
    let run = |out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_pick"))
            .args(with_out(out))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    // The complete output, written over the previous state where the kills will write it
    // (outputs may name their own path, as train_params.json does).
    put_previous(&out, file_output);
    let previous = snapshot(&out);
    let started = Instant::now();
    let o = run(&out).wait_with_output().unwrap();
    let took = started.elapsed();
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let complete = snapshot(&out);
    assert!(complete != previous, "{name}");
    put_previous(&out, file_output);

    let mut moments = Moments(name.bytes().fold(0x9e37_79b9_7f4a_7c15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }));
    let (mut before, mut after) = (0, 0);
    for i in 0..KILLS {
        let mut child = run(&out);
        std::thread::sleep(moments.next(took.mul_f64(1.1)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let now = snapshot(&out);
        if now == previous {
            before += 1;
        } else if now == complete {
            after += 1;
            put_previous(&out, file_output);
        } else {
            panic!(
                "{name}: kill {i} ({status}) left neither the previous nor the complete output: {:?}",
                now.map(|m| m.keys().cloned().collect::<Vec<_>>())
            );
        }
    }
    // The rerun completes, replaces the previous state, and clears what the kills left.
    let o = run(&out).wait_with_output().unwrap();
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    assert!(snapshot(&out) == complete, "{name}: the rerun differs");
    assert_eq!(leftovers(&out), Vec::<String>::new(), "{name}");
    assert!(
        before > 0,
        "{name}: no kill landed before the end ({after} after)"
    );
}

fn s_(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// data-samples labelled neg/pos, and its fastText files, in a directory of their own.
fn prepared() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (binary, ft) = crate::fasttext_flow::prepared(tmp.path());
    (tmp, binary, ft)
}

#[test]
fn killed_data_commands_leave_the_previous_or_the_complete_output() {
    let (tmp, binary, _) = prepared();
    let samples = samples();
    let (samples, binary) = (s(&samples), s(&binary));
    let cases: [(&str, Vec<&str>); 6] = [
        ("export", vec!["export", "-i", samples, "-o", "{out}"]),
        (
            "transform",
            vec![
                "transform-dataset",
                "-i",
                samples,
                "-o",
                "{out}",
                "-l",
                BINARY,
            ],
        ),
        (
            "normalize",
            vec![
                "normalize-dataset",
                "-i",
                binary,
                "-o",
                "{out}",
                "-n",
                "potion",
            ],
        ),
        (
            "balance",
            vec!["balance-dataset", "-i", binary, "-o", "{out}"],
        ),
        (
            "sample",
            vec![
                "sample-dataset",
                "-i",
                samples,
                "-o",
                "{out}",
                "--sampling-rate",
                "0.5",
            ],
        ),
        (
            "reshard",
            vec![
                "reshard-dataset",
                "-i",
                samples,
                "-o",
                "{out}",
                "-n",
                "3",
                "-t",
                "0.1",
            ],
        ),
    ];
    for (name, args) in cases {
        harness(tmp.path(), name, &args, false);
    }
}

#[test]
fn killed_fasttext_and_sql_commands_leave_the_previous_or_the_complete_output() {
    let (tmp, binary, ft) = prepared();
    let samples = samples();
    let model = samples.join("fasttext/binary/model.bin");
    let (samples, binary, ft, model) = (s(&samples), s(&binary), s(&ft), s(&model));
    let dataset = format!("s={samples}");
    let cases: [(&str, Vec<&str>, bool); 4] = [
        (
            "convert",
            vec![
                "convert-to-fasttext",
                "-i",
                binary,
                "-o",
                "{out}",
                "-n",
                "ultrafine",
            ],
            false,
        ),
        (
            "train",
            vec![
                "train-fasttext",
                "-d",
                ft,
                "-o",
                "{out}",
                "--thread",
                "1",
                "--epoch",
                "3",
                // A small model: the default 2M buckets of 256 floats take 2 GB to set up.
                "--bucket",
                "10000",
                "--dimension",
                "16",
            ],
            false,
        ),
        (
            "infer",
            vec![
                "infer-fasttext",
                "-m",
                model,
                "-i",
                samples,
                "-o",
                "{out}",
                "-c",
                "q",
            ],
            false,
        ),
        (
            "sql",
            vec![
                "sql",
                "-d",
                &dataset,
                "-o",
                "{out}",
                "SELECT _file, _row, normalize(text, 'ultrafine') AS t FROM s ORDER BY _file, _row",
            ],
            true,
        ),
    ];
    for (name, args, file) in cases {
        harness(tmp.path(), name, &args, file);
    }
}

//! The README's first command: `examples/quickstart.sh` runs the main job on data-samples
//! (binarize → reshard → fastText and Model2Vec trained and evaluated → the corpus scored by
//! both → ranked and compared in SQL). Here with this build's binary in place of its release
//! build.

use std::process::Command;

use crate::common::{repo, s};

#[test]
fn the_main_job_runs_on_the_shipped_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("quickstart");
    let o = Command::new("bash")
        .arg(repo().join("examples/quickstart.sh"))
        .arg(&out)
        .env("PICK", env!("CARGO_BIN_EXE_pick"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}\n{stderr}");

    // Both classifiers trained, evaluated and written where the summary says.
    for f in [
        "ft-model/model.bin",
        "m2v-model/model/model.safetensors",
        "m2v-model/report.yaml",
        "plots/fasttext/roc.png",
        "plots/fasttext/confusion.svg",
        "plots/model2vec/precision_recall.png",
        "plots/calibration/calibration.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let figure = |file: &str, key: &str| -> f64 {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("{key} in {text}"))
            .parse()
            .unwrap()
    };
    // Held-out figures of models that learned something (data-samples: about 0.87 and 0.70).
    assert!(figure("ft-eval.yaml", "macro_f1") > 0.75);
    assert!(figure("m2v-eval.yaml", "macro_f1") > 0.6);
    assert!(figure("m2v-eval.yaml", "macro_auc") > 0.75);

    // Every row of the corpus scored by both, the comparison and the summary printed.
    let counted = crate::common::pick_ok(&[
        "sql",
        "--format",
        "csv",
        "-d",
        &format!("s={}", s(&out.join("scored"))),
        "SELECT count(*), count(s.metadata.ft['__label__pos']), count(s.metadata.m2v['pos']) FROM s",
    ]);
    assert_eq!(counted.lines().nth(1), Some("2500,2500,2500"), "{counted}");
    let compare = std::fs::read_to_string(out.join("compare.txt")).unwrap();
    assert!(
        compare.contains("spearman") && compare.contains("2500"),
        "{compare}"
    );
    for line in [
        "fastText   (",
        "Model2Vec  (",
        "scored corpus:",
        "plots:",
        "the whole job took",
    ] {
        assert!(stdout.contains(line), "{line} in {stdout}");
    }
}

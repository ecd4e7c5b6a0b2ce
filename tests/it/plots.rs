//! `--plot DIR` on eval-fasttext, eval-model2vec, eval-calibration, label-distribution and
//! annotation-agreement: every chart written as PNG and SVG, at the chart size, and drawn
//! (read back pixel by pixel: mostly background, with the curves', bars' or cells' colours).

use std::path::Path;

use crate::common::*;

/// The first line colour, the bars' fill and the darkest heatmap cell of pick's charts.
const LINE: [u8; 3] = [31, 119, 180];
const BAR: [u8; 3] = [100, 160, 210];
const DARKEST_CELL: [u8; 3] = [8, 48, 107];

struct Pixels {
    rgb: Vec<u8>,
}

impl Pixels {
    fn count(&self, colour: [u8; 3]) -> usize {
        self.rgb.chunks(3).filter(|p| *p == colour).count()
    }

    fn total(&self) -> usize {
        self.rgb.len() / 3
    }
}

/// Reads `dir/NAME.png` (800 × 600 RGB) and checks `dir/NAME.svg` beside it.
fn chart(dir: &Path, name: &str) -> Pixels {
    let png_path = dir.join(format!("{name}.png"));
    let file = std::fs::File::open(&png_path).unwrap_or_else(|e| panic!("{png_path:?}: {e}"));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (800, 600), "{name}");
    assert_eq!(info.color_type, png::ColorType::Rgb, "{name}");
    buf.truncate(info.buffer_size());
    let pixels = Pixels { rgb: buf };
    let white = pixels.count([255, 255, 255]);
    assert!(
        white > pixels.total() / 5 && white < pixels.total() * 99 / 100,
        "{name}: {white} white pixels of {}",
        pixels.total()
    );
    let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{name}.svg"
    );
    pixels
}

#[test]
fn eval_fasttext_draws_roc_precision_recall_and_confusion() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, ft) = crate::fasttext_flow::prepared(tmp.path());
    let model = crate::fasttext_flow::model_copy(tmp.path(), "binary");
    let plots = tmp.path().join("plots");
    let o = pick(&[
        "eval-fasttext",
        "-d",
        s(&ft),
        "-m",
        s(&model),
        "--plot",
        s(&plots),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("roc.png, roc.svg, precision_recall.png"),
        "{}",
        stderr(&o)
    );
    for name in ["roc", "precision_recall"] {
        let p = chart(&plots, name);
        assert!(p.count(LINE) > 500, "{name}: the first class's curve");
    }
    let confusion = chart(&plots, "confusion");
    assert!(confusion.count(DARKEST_CELL) > 10_000, "the largest cell");
    let svg = std::fs::read_to_string(plots.join("confusion.svg")).unwrap();
    assert!(svg.contains("\npos\n</text>") && svg.contains("\nneg\n</text>"));
}

#[test]
fn eval_model2vec_draws_its_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m2v");
    pick_ok(&[
        "-q",
        "train-model2vec",
        "-d",
        s(&samples()),
        "-m",
        s(&repo().join("models/model2vec/potion-8m-pca64")),
        "-o",
        s(&model),
        "-ll",
        ".metadata.code_quality.score",
        "--max-epochs",
        "1",
    ]);
    let plots = tmp.path().join("plots");
    pick_ok(&[
        "-q",
        "eval-model2vec",
        "-d",
        s(&samples()),
        "-m",
        s(&model),
        "-ll",
        ".metadata.code_quality.score",
        "--plot",
        s(&plots),
    ]);
    for name in ["roc", "precision_recall"] {
        assert!(chart(&plots, name).count(LINE) > 300, "{name}");
    }
    assert!(chart(&plots, "confusion").count(DARKEST_CELL) > 1000);
}

#[test]
fn eval_calibration_draws_the_curve_over_its_histogram() {
    let tmp = tempfile::tempdir().unwrap();
    let plots = tmp.path().join("plots");
    let o = pick(&[
        "eval-calibration",
        "-d",
        s(&repo().join("tests/fixtures/calibration/data")),
        "-p",
        ".pred",
        "-l",
        ".gold",
        "--plot",
        s(&plots),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = chart(&plots, "calibration");
    assert!(p.count(LINE) > 500, "the curve");
    assert!(p.count(BAR) > 5000, "the histogram's bars");
}

#[test]
fn label_distribution_draws_labels_and_key_lengths() {
    let tmp = tempfile::tempdir().unwrap();
    let plots = tmp.path().join("plots");
    pick_ok(&[
        "-q",
        "label-distribution",
        "-d",
        s(&samples()),
        "-l",
        ".metadata.code_quality.score",
        "-k",
        ".text",
        "--plot",
        s(&plots),
    ]);
    for name in ["labels", "key_lengths"] {
        assert!(chart(&plots, name).count(BAR) > 5000, "{name}");
    }
}

#[test]
fn annotation_agreement_draws_the_confusion_and_differences() {
    let tmp = tempfile::tempdir().unwrap();
    crate::metrics_sql::worklog_runs(tmp.path());
    let plots = tmp.path().join("plots");
    pick_ok(&[
        "-q",
        "annotation-agreement",
        "-d",
        s(&tmp.path().join("a")),
        "-d",
        s(&tmp.path().join("b")),
        "-l",
        ".label",
        "-k",
        ".id",
        "--plot",
        s(&plots),
    ]);
    // 936 pos/pos is the largest cell.
    assert!(chart(&plots, "agreement").count(DARKEST_CELL) > 10_000);
    assert!(!plots.join("differences.png").exists(), "not ordinal");

    let ordinal = tmp.path().join("ordinal");
    write_file(
        &tmp.path().join("x/a.jsonl"),
        b"{\"k\": 1, \"s\": 3}\n{\"k\": 2, \"s\": 4}\n{\"k\": 3, \"s\": 1}\n",
    );
    write_file(
        &tmp.path().join("y/a.jsonl"),
        b"{\"k\": 1, \"s\": 3}\n{\"k\": 2, \"s\": 2}\n{\"k\": 3, \"s\": 2}\n",
    );
    pick_ok(&[
        "-q",
        "annotation-agreement",
        "-d",
        s(&tmp.path().join("x")),
        "-d",
        s(&tmp.path().join("y")),
        "-l",
        ".s",
        "-k",
        ".k",
        "--ordinal",
        "--plot",
        s(&ordinal),
    ]);
    chart(&ordinal, "agreement");
    assert!(chart(&ordinal, "differences").count(BAR) > 5000);
}

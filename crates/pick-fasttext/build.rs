// Compiles fastText 0.9.2 (cpp/fasttext, with pick's prefetch patch) and the one-call training
// entry point around it; cpp/PROVENANCE.md says what was changed and why.
fn main() {
    println!("cargo:rerun-if-changed=cpp");
    let sources = [
        "args",
        "autotune",
        "densematrix",
        "dictionary",
        "fasttext",
        "loss",
        "matrix",
        "meter",
        "model",
        "productquantizer",
        "quantmatrix",
        "utils",
        "vector",
    ];
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file("cpp/train_guard.cc")
        .files(sources.iter().map(|s| format!("cpp/fasttext/{s}.cc")))
        .include("cpp/fasttext")
        .flag("-std=c++11")
        // fastText's own sources, compiled as upstream's optimized build (`make opt`) does, in
        // every profile: the tests train models too.
        .warnings(false)
        .opt_level(3)
        .define("NDEBUG", None)
        .flag_if_supported("-pthread")
        .flag_if_supported("-funroll-loops");
    build.compile("pick_fasttext");
}

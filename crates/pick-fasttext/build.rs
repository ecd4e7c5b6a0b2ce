// Compiles the guard around fastText's training (cpp/PROVENANCE.md says why), against the
// headers of the fastText that `cfasttext-sys` builds.
fn main() {
    println!("cargo:rerun-if-changed=cpp");
    cc::Build::new()
        .cpp(true)
        .file("cpp/train_guard.cc")
        .include("cpp/fasttext")
        .flag("-std=c++11")
        // The headers are fastText's own, as cfasttext-sys compiles them.
        .warnings(false)
        .flag_if_supported("-pthread")
        .compile("pick_fasttext_guard");
}

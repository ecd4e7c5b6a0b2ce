//! What readers and writers of rows share, below both: compression codecs, the mark of a
//! column of JSON text, and Arrow rows written as JSON text (`json_rows`).

use arrow::datatypes::Field;

pub mod json_rows;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Plain,
    Zstd,
    Gzip,
}

impl Codec {
    /// The codec a file name asks for; writers use the same rule, so mirrored names keep codecs.
    pub fn from_name(name: &str) -> Codec {
        if name.ends_with(".zst") || name.ends_with(".zstd") {
            Codec::Zstd
        } else if name.ends_with(".gz") || name.ends_with(".gzip") {
            Codec::Gzip
        } else {
            Codec::Plain
        }
    }
}

/// Field metadata key marking a Utf8 column whose values are JSON text.
pub const JSON_META_KEY: &str = "pick.json";

/// Whether `field` is a column of JSON text (`JSON_META_KEY`).
pub fn is_json_field(field: &Field) -> bool {
    field.metadata().get(JSON_META_KEY).map(String::as_str) == Some("true")
}

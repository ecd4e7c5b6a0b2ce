//! bonepick-compatible text forms, one writer each: Python's `repr`/`str()` of values
//! (`pyfmt`), PyYAML's block layout (`yaml`) and Python's `json.dumps` (`json`). Users compare
//! pick's outputs with bonepick's byte for byte; these are where that holds.
//!
//! No DataFusion and no Arrow here: the kernels and the engine both use these.

pub mod json;
pub mod json_edit;
pub mod pyfmt;
pub mod yaml;

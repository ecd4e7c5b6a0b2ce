//! `seeded_random(seed, key, ...)`: a uniform number in [0, 1) that depends only on the
//! seed and the key values, so `ORDER BY seeded_random(42, _file, _row)` shuffles the same
//! way whatever the thread count, batch size or file order.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Builder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, UInt64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use pick_metrics::seeded::KeyHasher;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SeededRandom {
    signature: Signature,
}

impl SeededRandom {
    pub fn new() -> Self {
        SeededRandom {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl Default for SeededRandom {
    fn default() -> Self {
        Self::new()
    }
}

/// Integers hash by value whatever their width; everything else by its string form.
fn normalise(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(match array.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            cast(array, &DataType::Int64)?
        }
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            cast(array, &DataType::UInt64)?
        }
        DataType::Utf8 => Arc::clone(array),
        _ => cast(array, &DataType::Utf8)?,
    })
}

impl ScalarUDFImpl for SeededRandom {
    fn name(&self) -> &str {
        "seeded_random"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let Some((seed, keys)) = args.args.split_first() else {
            return exec_err!("seeded_random(seed, key, ...) needs a seed");
        };
        let seed = cast(&seed.to_array(n)?, &DataType::Int64)?;
        let seed = seed.as_primitive::<Int64Type>();
        let keys: Vec<ArrayRef> = keys
            .iter()
            .map(|k| normalise(&k.to_array(n)?))
            .collect::<Result<_>>()?;
        let mut out = Float64Builder::with_capacity(n);
        for row in 0..n {
            let mut h = KeyHasher::new(if seed.is_null(row) {
                0
            } else {
                seed.value(row)
            });
            for key in &keys {
                if key.is_null(row) {
                    h.write_null();
                    continue;
                }
                match key.data_type() {
                    DataType::Int64 => {
                        h.write(&key.as_primitive::<Int64Type>().value(row).to_le_bytes())
                    }
                    DataType::UInt64 => {
                        h.write(&key.as_primitive::<UInt64Type>().value(row).to_le_bytes())
                    }
                    _ => h.write(key.as_string::<i32>().value(row).as_bytes()),
                }
            }
            out.append_value(h.finish());
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

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

/// The kernel: FNV-1a over the key bytes, seeded, finished with splitmix64.
pub struct KeyHasher(u64);

impl KeyHasher {
    pub fn new(seed: i64) -> Self {
        KeyHasher(splitmix64(seed as u64 ^ 0xcbf2_9ce4_8422_2325))
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        self.0 = splitmix64(h ^ bytes.len() as u64);
    }

    pub fn write_null(&mut self) {
        self.0 = splitmix64(self.0 ^ 0x9e37_79b9_7f4a_7c15);
    }

    /// Uniform in [0, 1) with 53 bits of randomness.
    pub fn finish(&self) -> f64 {
        (splitmix64(self.0) >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(seed: i64, keys: &[&[u8]]) -> f64 {
        let mut h = KeyHasher::new(seed);
        keys.iter().for_each(|k| h.write(k));
        h.finish()
    }

    #[test]
    fn depends_on_seed_and_every_key() {
        let base = hash(42, &[b"a", b"bc"]);
        assert_eq!(base, hash(42, &[b"a", b"bc"]));
        assert_ne!(base, hash(43, &[b"a", b"bc"]));
        assert_ne!(base, hash(42, &[b"ab", b"c"]));
        assert!((0.0..1.0).contains(&base));
    }

    #[test]
    fn roughly_uniform() {
        let n = 100_000;
        let mean: f64 = (0..n)
            .map(|i: u64| hash(7, &[&i.to_le_bytes()]))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }
}

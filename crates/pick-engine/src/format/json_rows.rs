//! Arrow → JSON text, the way bonepick writes rows: compact, keys in schema order, UTF-8 kept
//! as is, floats as Python's `repr`, null fields left out, JSON-text columns written as JSON.

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, GenericListArray, OffsetSizeTrait, StructArray,
};
use arrow::datatypes::{
    DataType, Field, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use pick_compat::json::{write_float, write_str};

use crate::error::Result;
use crate::format::is_json_field;

/// Writes one JSON value per row of an array.
pub trait Encode {
    fn is_null(&self, row: usize) -> bool;
    fn encode(&self, row: usize, out: &mut Vec<u8>);
}

pub fn encoder<'a>(field: &Field, array: &'a dyn Array) -> Result<Box<dyn Encode + 'a>> {
    let json = is_json_field(field);
    Ok(match array.data_type() {
        DataType::Null => Box::new(NullEnc),
        DataType::Boolean => Box::new(BoolEnc(array.as_boolean())),
        DataType::Int8 => Box::new(IntEnc(array.as_primitive::<Int8Type>())),
        DataType::Int16 => Box::new(IntEnc(array.as_primitive::<Int16Type>())),
        DataType::Int32 => Box::new(IntEnc(array.as_primitive::<Int32Type>())),
        DataType::Int64 => Box::new(IntEnc(array.as_primitive::<Int64Type>())),
        DataType::UInt8 => Box::new(IntEnc(array.as_primitive::<UInt8Type>())),
        DataType::UInt16 => Box::new(IntEnc(array.as_primitive::<UInt16Type>())),
        DataType::UInt32 => Box::new(IntEnc(array.as_primitive::<UInt32Type>())),
        DataType::UInt64 => Box::new(IntEnc(array.as_primitive::<UInt64Type>())),
        DataType::Float16 => Box::new(FloatEnc(array.as_primitive::<Float16Type>())),
        DataType::Float32 => Box::new(FloatEnc(array.as_primitive::<Float32Type>())),
        DataType::Float64 => Box::new(FloatEnc(array.as_primitive::<Float64Type>())),
        DataType::Utf8 => Box::new(StrEnc {
            json,
            get: StrArr::Small(array.as_string::<i32>()),
        }),
        DataType::LargeUtf8 => Box::new(StrEnc {
            json,
            get: StrArr::Large(array.as_string::<i64>()),
        }),
        DataType::Utf8View => Box::new(StrEnc {
            json,
            get: StrArr::View(array.as_string_view()),
        }),
        DataType::List(item) => Box::new(ListEnc::new(array.as_list::<i32>(), item)?),
        DataType::LargeList(item) => Box::new(ListEnc::new(array.as_list::<i64>(), item)?),
        DataType::Struct(_) => Box::new(StructEnc::new(array.as_struct())?),
        DataType::Map(entries, _) => Box::new(MapEnc::new(array.as_map(), entries)?),
        _ => Box::new(DisplayEnc {
            array,
            fmt: ArrayFormatter::try_new(array, &FormatOptions::default())?,
        }),
    })
}

/// Writes the rows of a struct-like set of columns as JSON objects, one per line.
pub struct RowWriter<'a> {
    names: Vec<Vec<u8>>,
    columns: Vec<Box<dyn Encode + 'a>>,
}

impl<'a> RowWriter<'a> {
    pub fn new(fields: &[&Field], arrays: &'a [ArrayRef]) -> Result<Self> {
        let columns = fields
            .iter()
            .zip(arrays)
            .map(|(f, a)| encoder(f, a.as_ref()))
            .collect::<Result<_>>()?;
        Ok(RowWriter {
            names: key_prefixes(fields.iter().copied()),
            columns,
        })
    }

    pub fn write_row(&self, row: usize, out: &mut Vec<u8>) {
        write_object(&self.names, &self.columns, row, out);
    }

    /// The first `rows` rows as a column of JSON text (the `_json` of columnar shards).
    pub fn text_column(&self, rows: usize) -> ArrayRef {
        let mut b = arrow::array::StringBuilder::with_capacity(rows, rows * 64);
        let mut buf = Vec::new();
        for r in 0..rows {
            buf.clear();
            self.write_row(r, &mut buf);
            b.append_value(std::str::from_utf8(&buf).expect("the JSON writer writes UTF-8"));
        }
        std::sync::Arc::new(b.finish())
    }
}

/// One row of named columns as a JSON object; null fields are left out.
fn write_object(
    names: &[Vec<u8>],
    columns: &[Box<dyn Encode + '_>],
    row: usize,
    out: &mut Vec<u8>,
) {
    out.push(b'{');
    let mut first = true;
    for (name, col) in names.iter().zip(columns) {
        if col.is_null(row) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(name);
        col.encode(row, out);
    }
    out.push(b'}');
}

/// `"name":` prefixes, encoded once per batch.
fn key_prefixes<'f>(fields: impl Iterator<Item = &'f Field>) -> Vec<Vec<u8>> {
    fields
        .map(|f| {
            let mut name = Vec::new();
            write_str(f.name(), &mut name);
            name.push(b':');
            name
        })
        .collect()
}

struct NullEnc;
impl Encode for NullEnc {
    fn is_null(&self, _: usize) -> bool {
        true
    }
    fn encode(&self, _: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(b"null");
    }
}

struct BoolEnc<'a>(&'a BooleanArray);
impl Encode for BoolEnc<'_> {
    fn is_null(&self, row: usize) -> bool {
        self.0.is_null(row)
    }
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(if self.0.value(row) { b"true" } else { b"false" });
    }
}

struct IntEnc<'a, T: arrow::datatypes::ArrowPrimitiveType>(&'a arrow::array::PrimitiveArray<T>);
impl<T> Encode for IntEnc<'_, T>
where
    T: arrow::datatypes::ArrowPrimitiveType,
    T::Native: itoa::Integer,
{
    fn is_null(&self, row: usize) -> bool {
        self.0.is_null(row)
    }
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(itoa::Buffer::new().format(self.0.value(row)).as_bytes());
    }
}

struct FloatEnc<'a, T: arrow::datatypes::ArrowPrimitiveType>(&'a arrow::array::PrimitiveArray<T>);
impl<T> Encode for FloatEnc<'_, T>
where
    T: arrow::datatypes::ArrowPrimitiveType,
    T::Native: Into<f64> + Copy,
{
    fn is_null(&self, row: usize) -> bool {
        self.0.is_null(row)
    }
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        write_float(self.0.value(row).into(), out);
    }
}

enum StrArr<'a> {
    Small(&'a arrow::array::StringArray),
    Large(&'a arrow::array::LargeStringArray),
    View(&'a arrow::array::StringViewArray),
}

struct StrEnc<'a> {
    json: bool,
    get: StrArr<'a>,
}
impl Encode for StrEnc<'_> {
    fn is_null(&self, row: usize) -> bool {
        match self.get {
            StrArr::Small(a) => a.is_null(row),
            StrArr::Large(a) => a.is_null(row),
            StrArr::View(a) => a.is_null(row),
        }
    }
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        let s = match self.get {
            StrArr::Small(a) => a.value(row),
            StrArr::Large(a) => a.value(row),
            StrArr::View(a) => a.value(row),
        };
        if self.json {
            out.extend_from_slice(s.as_bytes());
        } else {
            write_str(s, out);
        }
    }
}

struct ListEnc<'a, O: OffsetSizeTrait> {
    array: &'a GenericListArray<O>,
    values: Box<dyn Encode + 'a>,
}
impl<'a, O: OffsetSizeTrait> ListEnc<'a, O> {
    fn new(array: &'a GenericListArray<O>, item: &Field) -> Result<Self> {
        Ok(ListEnc {
            array,
            values: encoder(item, array.values().as_ref())?,
        })
    }
}
impl<O: OffsetSizeTrait> Encode for ListEnc<'_, O> {
    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        let offsets = self.array.value_offsets();
        let (start, end) = (offsets[row].as_usize(), offsets[row + 1].as_usize());
        out.push(b'[');
        for i in start..end {
            if i > start {
                out.push(b',');
            }
            if self.values.is_null(i) {
                out.extend_from_slice(b"null");
            } else {
                self.values.encode(i, out);
            }
        }
        out.push(b']');
    }
}

struct StructEnc<'a> {
    array: &'a StructArray,
    names: Vec<Vec<u8>>,
    children: Vec<Box<dyn Encode + 'a>>,
}
impl<'a> StructEnc<'a> {
    fn new(array: &'a StructArray) -> Result<Self> {
        let names = key_prefixes(array.fields().iter().map(|f| f.as_ref()));
        let children = array
            .fields()
            .iter()
            .zip(array.columns())
            .map(|(f, child)| encoder(f, child.as_ref()))
            .collect::<Result<_>>()?;
        Ok(StructEnc {
            array,
            names,
            children,
        })
    }
}
impl Encode for StructEnc<'_> {
    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        write_object(&self.names, &self.children, row, out);
    }
}

/// A map as a JSON object: its keys as strings (as Arrow displays non-string keys), in the
/// map's order.
struct MapEnc<'a> {
    array: &'a arrow::array::MapArray,
    keys: ArrayRef,
    values: Box<dyn Encode + 'a>,
}
impl<'a> MapEnc<'a> {
    fn new(array: &'a arrow::array::MapArray, entries: &Field) -> Result<Self> {
        let DataType::Struct(parts) = entries.data_type() else {
            unreachable!("map entries are a struct")
        };
        Ok(MapEnc {
            array,
            keys: arrow::compute::cast(array.keys(), &DataType::Utf8)?,
            values: encoder(&parts[1], array.values().as_ref())?,
        })
    }
}
impl Encode for MapEnc<'_> {
    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        let keys = self.keys.as_string::<i32>();
        let offsets = self.array.value_offsets();
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        out.push(b'{');
        for i in start..end {
            if i > start {
                out.push(b',');
            }
            write_str(keys.value(i), out);
            out.push(b':');
            if self.values.is_null(i) {
                out.extend_from_slice(b"null");
            } else {
                self.values.encode(i, out);
            }
        }
        out.push(b'}');
    }
}

/// Types with no JSON counterpart (timestamps, decimals, binary, ...) are written as the
/// strings Arrow displays them as.
struct DisplayEnc<'a> {
    array: &'a dyn Array,
    fmt: ArrayFormatter<'a>,
}
impl Encode for DisplayEnc<'_> {
    fn is_null(&self, row: usize) -> bool {
        self.array.is_null(row)
    }
    fn encode(&self, row: usize, out: &mut Vec<u8>) {
        write_str(&self.fmt.value(row).to_string(), out);
    }
}

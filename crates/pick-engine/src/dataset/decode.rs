//! Decoding a chunk of JSON lines into one Arrow record batch of the projected columns.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{
    ArrayRef, RecordBatch, RecordBatchOptions, StringArray, StringBuilder, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde_json::value::RawValue;

use crate::dataset::builders::{ColBuilder, FieldIndex};
use crate::dataset::discover::Shard;
use crate::dataset::json_value::for_each_entry;
use crate::dataset::lines::{LineChunk, is_blank, lines};
use crate::error::{PickError, Result};

/// Columns computed from where a row lives rather than from its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Virtual {
    Split,
    File,
    Row,
    Json,
}

impl Virtual {
    pub const ALL: [Virtual; 4] = [Virtual::Split, Virtual::File, Virtual::Row, Virtual::Json];

    pub fn name(self) -> &'static str {
        match self {
            Virtual::Split => "_split",
            Virtual::File => "_file",
            Virtual::Row => "_row",
            Virtual::Json => "_json",
        }
    }

    pub fn field(self) -> Field {
        match self {
            Virtual::Row => Field::new(self.name(), DataType::UInt64, false),
            Virtual::File => Field::new(self.name(), DataType::Utf8, false),
            Virtual::Split | Virtual::Json => Field::new(self.name(), DataType::Utf8, true),
        }
    }

    /// The value of a per-shard virtual column for `n` rows of `shard`.
    pub fn shard_column(self, shard: &Shard, n: usize) -> Option<ArrayRef> {
        match self {
            Virtual::File => Some(Arc::new(StringArray::from_iter_values(
                std::iter::repeat_n(shard.rel.as_str(), n),
            ))),
            Virtual::Split => Some(Arc::new(StringArray::from_iter(std::iter::repeat_n(
                shard.split.as_deref(),
                n,
            )))),
            Virtual::Row | Virtual::Json => None,
        }
    }
}

/// The table's columns: the data fields of the rows, then the virtual columns (a data field
/// with a virtual column's name shadows it).
#[derive(Debug)]
pub struct TableLayout {
    pub schema: SchemaRef,
    pub data_fields: usize,
    pub index: FieldIndex,
    pub virtuals: Vec<Virtual>,
    /// How the schema was inferred, for messages about rows that do not fit it.
    pub inferred_from: String,
}

impl TableLayout {
    pub fn new(data: Schema, inferred_from: String) -> TableLayout {
        let names: Vec<String> = data.fields().iter().map(|f| f.name().clone()).collect();
        let virtuals: Vec<Virtual> = Virtual::ALL
            .into_iter()
            .filter(|v| !names.iter().any(|n| n == v.name()))
            .collect();
        let mut fields: Vec<Field> = data.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.extend(virtuals.iter().map(|v| v.field()));
        TableLayout {
            schema: Arc::new(Schema::new_with_metadata(fields, data.metadata().clone())),
            data_fields: names.len(),
            index: FieldIndex::new(names),
            virtuals,
            inferred_from,
        }
    }

    pub fn column(&self, i: usize) -> Column {
        if i < self.data_fields {
            Column::Data(i)
        } else {
            Column::Virtual(self.virtuals[i - self.data_fields])
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Data(usize),
    Virtual(Virtual),
}

/// What a scan produces: the table columns it projects, in output order.
#[derive(Debug, Clone)]
pub struct Projection {
    pub columns: Vec<Column>,
    pub schema: SchemaRef,
}

impl Projection {
    /// The columns' names, as plans show them.
    pub fn column_names(&self) -> String {
        let names: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        names.join(", ")
    }

    pub fn new(layout: &TableLayout, indices: Option<&Vec<usize>>) -> Result<Projection> {
        let indices: Vec<usize> = match indices {
            Some(p) => p.clone(),
            None => (0..layout.schema.fields().len()).collect(),
        };
        let schema = Arc::new(layout.schema.project(&indices)?);
        Ok(Projection {
            columns: indices.iter().map(|&i| layout.column(i)).collect(),
            schema,
        })
    }

    pub fn wants(&self, v: Virtual) -> bool {
        self.columns.contains(&Column::Virtual(v))
    }
}

struct RowBuilders {
    /// One per data field of the table; `None` when not projected.
    data: Vec<Option<ColBuilder>>,
    rows: Vec<u64>,
    json: Option<StringBuilder>,
    /// Some field is read: rows are parsed, and a field the schema does not know is an error
    /// (a scan of `_json` alone loses nothing).
    strict: bool,
}

impl RowBuilders {
    /// `bytes`: the chunk's size, which the row texts (`_json`) will about fill.
    fn new(layout: &TableLayout, projection: &Projection, bytes: usize) -> RowBuilders {
        let mut data: Vec<Option<ColBuilder>> = (0..layout.data_fields).map(|_| None).collect();
        for c in &projection.columns {
            if let Column::Data(i) = *c {
                data[i] = Some(ColBuilder::new(layout.schema.field(i)));
            }
        }
        let strict = data.iter().any(Option::is_some);
        RowBuilders {
            data,
            rows: Vec::new(),
            json: projection
                .wants(Virtual::Json)
                .then(|| StringBuilder::with_capacity(bytes / 256 + 1, bytes)),
            strict,
        }
    }

    fn append_row<'a>(
        &mut self,
        layout: &TableLayout,
        line: &'a str,
        slots: &mut Vec<Option<&'a RawValue>>,
    ) -> Result<(), String> {
        if !self.strict {
            // No field is read: the row is passed on as text, checked to be an object but not
            // parsed (copying rows is then as fast as reading them).
            return if line.starts_with('{') && line.ends_with('}') {
                Ok(())
            } else {
                Err("not a JSON object".to_string())
            };
        }
        slots.clear();
        slots.resize(layout.data_fields, None);
        let mut unknown: Option<String> = None;
        for_each_entry(line, |key, value| {
            match layout.index.get(&key) {
                Some(i) => slots[i] = Some(value),
                None if self.strict && unknown.is_none() => unknown = Some(key.into_owned()),
                None => {}
            }
            Ok(())
        })?;
        if let Some(key) = unknown {
            return Err(format!(
                "the row has a field `{key}` the schema does not know ({})",
                layout.inferred_from
            ));
        }
        for (i, (builder, slot)) in self.data.iter_mut().zip(slots.iter()).enumerate() {
            let Some(b) = builder else { continue };
            match slot {
                Some(v) => b.append(v).map_err(|m| {
                    let m = m.within(layout.schema.field(i).name());
                    format!("{} ({})", m.describe(), layout.inferred_from)
                })?,
                None => b.append_null(),
            }
        }
        Ok(())
    }
}

/// Decodes a chunk. A bad row is an error naming its file and line unless `skip_bad`, in
/// which case it is counted in `bad_rows` and left out.
pub fn decode_chunk(
    layout: &TableLayout,
    projection: &Projection,
    chunk: &LineChunk,
    skip_bad: bool,
    bad_rows: &AtomicU64,
) -> Result<RecordBatch> {
    match decode_rows(layout, projection, chunk, false) {
        Ok((batch, _)) => Ok(batch),
        Err(e) if skip_bad && matches!(e, PickError::BadRow { .. }) => {
            let (batch, bad) = decode_rows(layout, projection, chunk, true)?;
            bad_rows.fetch_add(bad, Ordering::Relaxed);
            Ok(batch)
        }
        Err(e) => Err(e),
    }
}

/// `careful` decodes each row into scratch builders first, so a bad row can be left out
/// without corrupting the batch; it is the slow path taken only for chunks with bad rows.
fn decode_rows(
    layout: &TableLayout,
    projection: &Projection,
    chunk: &LineChunk,
    careful: bool,
) -> Result<(RecordBatch, u64)> {
    let mut out = RowBuilders::new(layout, projection, chunk.data.len());
    let mut slots = Vec::with_capacity(layout.data_fields);
    let mut bad = 0u64;
    let mut row = chunk.first_row;
    for (line_no, bytes) in lines(&chunk.data, chunk.first_line) {
        if is_blank(bytes) {
            continue;
        }
        let this_row = row;
        row += 1;
        let result = std::str::from_utf8(bytes)
            .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to()))
            .and_then(|line| {
                let line = line.trim_ascii();
                if careful {
                    RowBuilders::new(layout, projection, 0).append_row(layout, line, &mut slots)?;
                }
                out.append_row(layout, line, &mut slots)?;
                Ok(line)
            });
        match result {
            Ok(line) => {
                out.rows.push(this_row);
                if let Some(j) = &mut out.json {
                    j.append_value(line);
                }
            }
            Err(_) if careful => bad += 1,
            Err(message) => {
                return Err(PickError::BadRow {
                    file: chunk.shard.rel.clone(),
                    line: chunk.line_in_shard(line_no),
                    message,
                });
            }
        }
    }
    Ok((finish(projection, &chunk.shard, out)?, bad))
}

fn finish(projection: &Projection, shard: &Shard, mut out: RowBuilders) -> Result<RecordBatch> {
    let n = out.rows.len();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(projection.columns.len());
    for c in &projection.columns {
        columns.push(match *c {
            Column::Data(i) => out.data[i].as_mut().expect("projected").finish(),
            Column::Virtual(Virtual::Row) => {
                Arc::new(UInt64Array::from(std::mem::take(&mut out.rows)))
            }
            Column::Virtual(Virtual::Json) => {
                Arc::new(out.json.as_mut().expect("projected").finish())
            }
            Column::Virtual(v) => v.shard_column(shard, n).expect("per-shard column"),
        });
    }
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(&projection.schema),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(n)),
    )?)
}

//! What crosses the wire between a client, the scheduler and executors: a dataset as the
//! client opened it (its shards and inferred schema, so no other process discovers or infers
//! again, and every process reads the same table), and a scan's pieces.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::Schema;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion_proto::protobuf::Schema as SchemaProto;
use prost::Message;

use pick_engine::PickError;
use pick_engine::dataset::decode::TableLayout;
use pick_engine::dataset::{Dataset, InferRows, ReadOptions, Shard, ShardFormat};
use pick_engine::store;

#[derive(Clone, PartialEq, Message)]
pub struct DatasetWire {
    #[prost(string, tag = "1")]
    pub root: String,
    /// The data columns (virtual columns are derived), as datafusion-proto's `Schema`.
    #[prost(bytes = "vec", tag = "2")]
    pub schema: Vec<u8>,
    #[prost(string, tag = "3")]
    pub inferred_from: String,
    #[prost(bool, tag = "4")]
    pub skip_bad_rows: bool,
    #[prost(uint64, optional, tag = "5")]
    pub infer_rows: Option<u64>,
    #[prost(message, repeated, tag = "6")]
    pub shards: Vec<ShardWire>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ShardWire {
    /// A local path, or an object's URL.
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(string, tag = "2")]
    pub rel: String,
    #[prost(string, optional, tag = "3")]
    pub split: Option<String>,
    #[prost(uint64, tag = "4")]
    pub size: u64,
    #[prost(string, tag = "5")]
    pub version: String,
}

/// A scan of some of a dataset's pieces: one group per partition of the task.
#[derive(Clone, PartialEq, Message)]
pub struct ScanWire {
    /// The dataset, with the shards the groups read alone.
    #[prost(message, optional, tag = "1")]
    pub dataset: Option<DatasetWire>,
    /// Indices into the table's columns.
    #[prost(uint32, repeated, tag = "2")]
    pub columns: Vec<u32>,
    /// The scan's filters (pruning Parquet), as datafusion-proto's `LogicalExprList`.
    #[prost(bytes = "vec", tag = "3")]
    pub filters: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    pub groups: Vec<GroupWire>,
    #[prost(uint64, optional, tag = "5")]
    pub limit: Option<u64>,
    /// The Parquet options of the session that planned the scan, as datafusion-proto's
    /// `TableParquetOptions`.
    #[prost(bytes = "vec", tag = "6")]
    pub parquet_options: Vec<u8>,
    /// Each group is in `_row` order (the scan's output ordering).
    #[prost(bool, tag = "7")]
    pub ordered: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct GroupWire {
    #[prost(message, repeated, tag = "1")]
    pub pieces: Vec<PieceWire>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PieceWire {
    /// Index into the scan's dataset shards.
    #[prost(uint32, tag = "1")]
    pub shard: u32,
    #[prost(uint64, optional, tag = "2")]
    pub start: Option<u64>,
    #[prost(uint64, optional, tag = "3")]
    pub end: Option<u64>,
}

fn internal(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("pick cluster message: {e}"))
}

/// A local path as every process names it: absolute (executors do not share the client's
/// working directory). URLs are left as they are.
pub(crate) fn portable(path: &std::path::Path) -> String {
    let text = path.to_string_lossy();
    if store::is_url(&text) {
        return text.into_owned();
    }
    std::path::absolute(path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| text.into_owned())
}

/// `dataset` with `shards` (all of its shards, or those a scan reads).
pub fn dataset_to_wire(dataset: &Dataset, shards: &[Arc<Shard>]) -> DfResult<DatasetWire> {
    let layout = &dataset.layout;
    let data = Schema::new_with_metadata(
        layout.schema.fields()[..layout.data_fields].to_vec(),
        layout.schema.metadata().clone(),
    );
    let schema = SchemaProto::try_from(&data)?.encode_to_vec();
    Ok(DatasetWire {
        root: portable(&dataset.root),
        schema,
        inferred_from: layout.inferred_from.clone(),
        skip_bad_rows: dataset.options.skip_bad_rows,
        infer_rows: dataset.options.infer_rows.0,
        shards: shards
            .iter()
            .map(|s| ShardWire {
                path: portable(&s.path),
                rel: s.rel.clone(),
                split: s.split.clone(),
                size: s.size,
                version: s.version.clone(),
            })
            .collect(),
    })
}

/// The dataset a client opened, as this process reads it: an object's store is built here,
/// from this process's environment.
pub fn dataset_from_wire(wire: DatasetWire) -> DfResult<Dataset> {
    let proto = SchemaProto::decode(wire.schema.as_slice()).map_err(internal)?;
    let data = Schema::try_from(&proto)?;
    let shards = wire
        .shards
        .into_iter()
        .map(|s| {
            let format = ShardFormat::from_name(&s.path)
                .ok_or_else(|| internal(format!("{}: not a shard name", s.path)))?;
            let object = if store::is_url(&s.path) {
                Some(store::Remote::parse(&s.path).map_err(PickError::into_datafusion)?)
            } else {
                None
            };
            Ok(Arc::new(Shard {
                path: PathBuf::from(&s.path),
                rel: s.rel,
                split: s.split,
                format,
                size: s.size,
                object,
                version: s.version,
            }))
        })
        .collect::<DfResult<Vec<_>>>()?;
    Ok(Dataset {
        root: PathBuf::from(wire.root),
        shards,
        layout: Arc::new(TableLayout::new(data, wire.inferred_from)),
        options: ReadOptions {
            skip_bad_rows: wire.skip_bad_rows,
            infer_rows: InferRows(wire.infer_rows),
        },
        stats: Arc::default(),
    })
}

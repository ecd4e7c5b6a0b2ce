//! The codecs every process of a cluster installs: a client's logical plan carries its
//! datasets (`DatasetTable`, which the scheduler plans with the one scan, as the client
//! would) and whole-dataset jobs (`MirrorWrite`), and a task's physical plan carries its scan
//! (`PickSource` and its groups' pieces) and its writer (`MirrorWriteExec`).
//! Everything else goes to Ballista's own codecs. pick's functions travel by name and are
//! looked up in each process's registry.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result as DfResult, TableReference, not_impl_err};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::logical_plan::from_proto::parse_exprs;
use datafusion_proto::logical_plan::to_proto::serialize_exprs;
use datafusion_proto::physical_plan::{
    ComposedPhysicalExtensionCodec, PhysicalExtensionCodec, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf::LogicalExprList;
use prost::Message;

use datafusion::config::TableParquetOptions;
use pick_engine::PickError;
use pick_engine::dataset::partition::Piece;
use pick_engine::dataset::scan::{PickSource, groups_of, is_ordered, scan_exec};
use pick_engine::dataset::{Dataset, DatasetTable};
use pick_engine::ops::mirror_job::{MirrorSpec, MirrorWrite, MirrorWriteExec};

use crate::wire::{
    DatasetWire, GroupWire, PieceWire, ScanWire, dataset_from_wire, dataset_to_wire,
};

/// The first bytes of a mirror job's node, logical or physical (its spec follows). A scan's
/// message, protobuf, starts with its first field's tag (0x0a), never with these.
const MIRROR: &[u8] = b"pick-mirror-job\0";

fn malformed(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("pick cluster message: {e}"))
}

/// Datasets in logical plans; Ballista's nodes and file formats through Ballista's codec.
#[derive(Debug, Default)]
pub struct PickLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for PickLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> DfResult<Extension> {
        let Some(spec) = buf.strip_prefix(MIRROR) else {
            return self.ballista.try_decode(buf, inputs, ctx);
        };
        let [input] = inputs else {
            return Err(malformed("a mirror job without its statement"));
        };
        let spec = MirrorSpec::from_bytes(spec).map_err(PickError::into_datafusion)?;
        Ok(Extension {
            node: Arc::new(MirrorWrite::new(input.clone(), Arc::new(spec))?),
        })
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> DfResult<()> {
        let Some(mirror) = node.node.as_any().downcast_ref::<MirrorWrite>() else {
            return self.ballista.try_encode(node, buf);
        };
        buf.extend_from_slice(MIRROR);
        buf.extend_from_slice(&mirror.spec.to_bytes());
        Ok(())
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        _table_ref: &TableReference,
        _schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> DfResult<Arc<dyn TableProvider>> {
        let wire = DatasetWire::decode(buf).map_err(malformed)?;
        Ok(Arc::new(DatasetTable::new(dataset_from_wire(wire)?)))
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> DfResult<()> {
        let dataset: &Dataset = if let Some(t) = node.downcast_ref::<DatasetTable>() {
            t.dataset()
        } else {
            return self
                .ballista
                .try_encode_table_provider(table_ref, node, buf);
        };
        dataset_to_wire(dataset, &dataset.shards)?
            .encode(buf)
            .map_err(malformed)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> DfResult<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

/// Scans through `PickSource`; declines every other node (the composed codec then asks
/// Ballista's).
#[derive(Debug, Default)]
pub struct PickPhysicalCodec;

fn pick_scan(node: &dyn ExecutionPlan) -> Option<(&FileScanConfig, &PickSource)> {
    let config = node
        .downcast_ref::<DataSourceExec>()?
        .data_source()
        .downcast_ref::<FileScanConfig>()?;
    Some((config, config.file_source().downcast_ref::<PickSource>()?))
}

impl PhysicalExtensionCodec for PickPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if let Some(spec) = buf.strip_prefix(MIRROR) {
            let [input] = inputs else {
                return Err(malformed("a mirror writer without its input"));
            };
            let spec = MirrorSpec::from_bytes(spec).map_err(PickError::into_datafusion)?;
            return Ok(Arc::new(MirrorWriteExec::new(
                Arc::clone(input),
                Arc::new(spec),
            )));
        }
        let wire = ScanWire::decode(buf).map_err(malformed)?;
        let dataset = Arc::new(dataset_from_wire(
            wire.dataset
                .ok_or_else(|| malformed("a scan without its dataset"))?,
        )?);
        let list = LogicalExprList::decode(wire.filters.as_slice()).map_err(malformed)?;
        let filters = parse_exprs(&list.expr, ctx, &PickLogicalCodec::default())?;
        let groups = wire
            .groups
            .iter()
            .map(|g| {
                g.pieces
                    .iter()
                    .map(|p| {
                        let shard = dataset
                            .shards
                            .get(p.shard as usize)
                            .ok_or_else(|| malformed("a piece of no shard"))?;
                        Ok(Piece {
                            shard: Arc::clone(shard),
                            range: p.start.zip(p.end).map(|(s, e)| s..e),
                        })
                    })
                    .collect::<DfResult<Vec<_>>>()
            })
            .collect::<DfResult<Vec<_>>>()?;
        let columns = wire.columns.iter().map(|&c| c as usize).collect();
        let options =
            datafusion_proto_common::TableParquetOptions::decode(wire.parquet_options.as_slice())
                .map_err(malformed)?;
        let options = TableParquetOptions::try_from(&options)?;
        let source = PickSource::new(dataset, columns, filters, options)?;
        let limit = wire.limit.map(|l| l as usize);
        Ok(
            scan_exec(source, groups, limit, wire.ordered, &ctx.runtime_env())?
                as Arc<dyn ExecutionPlan>,
        )
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        if let Some(writer) = node.downcast_ref::<MirrorWriteExec>() {
            buf.extend_from_slice(MIRROR);
            buf.extend_from_slice(&writer.spec().to_bytes());
            return Ok(());
        }
        let Some((config, source)) = pick_scan(node.as_ref()) else {
            return not_impl_err!("not a pick scan: {}", node.name());
        };
        let groups = groups_of(config)?;
        // The task's shards alone, each once, in the order its pieces name them.
        let mut shards = Vec::new();
        let mut index = std::collections::HashMap::new();
        let groups = groups
            .iter()
            .map(|pieces| GroupWire {
                pieces: pieces
                    .iter()
                    .map(|p| {
                        let key = Arc::as_ptr(&p.shard);
                        let at = *index.entry(key).or_insert_with(|| {
                            shards.push(Arc::clone(&p.shard));
                            shards.len() - 1
                        });
                        PieceWire {
                            shard: at as u32,
                            start: p.range.as_ref().map(|r| r.start),
                            end: p.range.as_ref().map(|r| r.end),
                        }
                    })
                    .collect(),
            })
            .collect();
        let filters = LogicalExprList {
            expr: serialize_exprs(source.filters(), &PickLogicalCodec::default())?,
        };
        let options =
            datafusion_proto_common::TableParquetOptions::try_from(source.parquet_options())
                .map_err(malformed)?;
        ScanWire {
            dataset: Some(dataset_to_wire(source.dataset(), &shards)?),
            columns: source.columns().iter().map(|&c| c as u32).collect(),
            filters: filters.encode_to_vec(),
            groups,
            limit: config.limit.map(|l| l as u64),
            parquet_options: options.encode_to_vec(),
            ordered: is_ordered(config),
        }
        .encode(buf)
        .map_err(malformed)
    }
}

/// pick's scans first, then Ballista's shuffle and stage nodes. Every process of a cluster
/// must compose the same list: the position of the codec that encoded a node is what decodes it.
pub fn physical_codec() -> Arc<dyn PhysicalExtensionCodec> {
    Arc::new(ComposedPhysicalExtensionCodec::new(vec![
        Arc::new(PickPhysicalCodec),
        Arc::new(BallistaPhysicalExtensionCodec::default()),
    ]))
}

pub fn logical_codec() -> Arc<dyn LogicalExtensionCodec> {
    Arc::new(PickLogicalCodec::default())
}

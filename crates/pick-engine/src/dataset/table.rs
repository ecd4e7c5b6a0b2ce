//! A dataset as a DataFusion table: `Dataset` (its shards and inferred schema) and
//! `DatasetTable`, the TableProvider, whose scan is the one scan (`scan::plan`).

use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use crate::dataset::decode::{Projection, TableLayout, Virtual};
use crate::dataset::discover::{Shard, discover};
use crate::dataset::infer::{InferRows, infer_schema};
use crate::dataset::scan;
use crate::dataset::schema_cache;
use crate::dataset::scope::ShardScope;
use crate::dataset::source::{ScanContext, ScanMetrics, ScanStats};
use crate::error::{PickError, Result};

#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub skip_bad_rows: bool,
    pub infer_rows: InferRows,
}

/// A discovered dataset with its inferred schema.
#[derive(Debug)]
pub struct Dataset {
    pub root: PathBuf,
    pub shards: Vec<Arc<Shard>>,
    pub layout: Arc<TableLayout>,
    pub options: ReadOptions,
    pub stats: Arc<ScanStats>,
}

impl Dataset {
    /// Discovers the shards under `location` (directory, file or glob) and infers a schema.
    pub fn open(location: &str, options: ReadOptions) -> Result<Dataset> {
        Dataset::open_scoped(location, options, None)
    }

    /// As `open`, keeping only the shards `scope` allows (all of them when it allows none,
    /// so that a query over nothing still plans, and answers with no rows).
    pub fn open_scoped(
        location: &str,
        options: ReadOptions,
        scope: Option<&ShardScope>,
    ) -> Result<Dataset> {
        let (root, mut shards) = discover(location)?;
        if let Some(scope) = scope
            && shards.iter().any(|s| scope.keeps(s))
        {
            shards.retain(|s| scope.keeps(s));
        }
        if shards.is_empty() {
            return Err(PickError::Dataset {
                path: location.into(),
                message: "no shards found (.jsonl, .json, .jsonl.zst, .jsonl.gz, .parquet, ...)"
                    .into(),
            });
        }
        let shards: Vec<Arc<Shard>> = shards.into_iter().map(Arc::new).collect();
        let (rows, skip_bad) = (options.infer_rows, options.skip_bad_rows);
        let data = match schema_cache::load(&shards, rows, skip_bad) {
            Some(schema) => schema,
            None => {
                let schema = infer_schema(&shards, rows, skip_bad)?;
                schema_cache::store(&shards, rows, skip_bad, &schema);
                schema
            }
        };
        let layout = Arc::new(TableLayout::new(data, options.infer_rows.describe()));
        Ok(Dataset {
            root,
            shards,
            layout,
            options,
            stats: Arc::default(),
        })
    }

    /// The same dataset restricted to some of its shards (schema unchanged).
    pub fn subset(&self, shards: Vec<Arc<Shard>>) -> Dataset {
        Dataset {
            root: self.root.clone(),
            shards,
            layout: Arc::clone(&self.layout),
            options: self.options.clone(),
            stats: Arc::clone(&self.stats),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.layout.schema)
    }

    /// What a reader and decoder of `projection`'s columns need, counting into `metrics`.
    pub(crate) fn scan_context(&self, projection: Projection, metrics: ScanMetrics) -> ScanContext {
        ScanContext {
            layout: Arc::clone(&self.layout),
            projection,
            skip_bad_rows: self.options.skip_bad_rows,
            stats: Arc::clone(&self.stats),
            batch_rows: Dataset::BATCH_ROWS,
            metrics,
        }
    }

    /// The shards that can hold rows passing `filters`: those on `_split`/`_file` literals
    /// prune shards before any is opened.
    pub fn shards_for(&self, filters: &[Expr]) -> Vec<Arc<Shard>> {
        let mut shards = self.shards.clone();
        for (v, values) in filters.iter().filter_map(shard_filter) {
            shards.retain(|s| {
                let key = match v {
                    Virtual::Split => s.split.as_deref(),
                    _ => Some(s.rel.as_str()),
                };
                key.is_some_and(|k| values.iter().any(|x| x == k))
            });
        }
        shards
    }

    /// Rows per batch handed to DataFusion (Parquet reads; JSON batches are one chunk).
    pub(crate) const BATCH_ROWS: usize = 8192;
}

#[derive(Debug)]
pub struct DatasetTable {
    dataset: Arc<Dataset>,
}

impl DatasetTable {
    pub fn new(dataset: Dataset) -> Self {
        DatasetTable::shared(Arc::new(dataset))
    }

    /// Another table over an already opened dataset (same schema, same statistics).
    pub fn shared(dataset: Arc<Dataset>) -> Self {
        DatasetTable { dataset }
    }

    pub fn dataset(&self) -> &Arc<Dataset> {
        &self.dataset
    }
}

/// Filters on `_split` / `_file` that can prune shards before any is opened.
fn shard_filter(expr: &Expr) -> Option<(Virtual, Vec<String>)> {
    let virtual_of = |e: &Expr| match e {
        Expr::Column(c) if c.name == "_split" => Some(Virtual::Split),
        Expr::Column(c) if c.name == "_file" => Some(Virtual::File),
        _ => None,
    };
    let literal = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)), _) => {
            Some(s.clone())
        }
        _ => None,
    };
    match expr {
        Expr::BinaryExpr(b) if b.op == Operator::Eq => {
            let (v, s) = match (virtual_of(&b.left), literal(&b.right)) {
                (Some(v), Some(s)) => (v, s),
                _ => (virtual_of(&b.right)?, literal(&b.left)?),
            };
            Some((v, vec![s]))
        }
        Expr::InList(l) if !l.negated => {
            let v = virtual_of(&l.expr)?;
            let values: Option<Vec<String>> = l.list.iter().map(literal).collect();
            Some((v, values?))
        }
        _ => None,
    }
}

#[async_trait]
impl TableProvider for DatasetTable {
    fn schema(&self) -> SchemaRef {
        self.dataset.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Every filter comes to `scan`: those on `_split`/`_file` prune shards, the others
        // Parquet row groups. DataFusion still applies them all to the rows.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection_indices: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        scan::plan(state, &self.dataset, projection_indices, filters, limit)
    }
}

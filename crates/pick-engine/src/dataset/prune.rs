//! Row groups a Parquet shard need not read: the query's filters as DataFusion's
//! `PruningPredicate`, evaluated over each row group's min/max/null-count statistics (the
//! parquet crate's `StatisticsConverter` turns them into Arrow arrays). Statistics of a file
//! whose column type differs from the table's are cast to the table's type; where that is not
//! possible the column is "unknown" and its row groups are kept.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, UInt64Array};
use arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_optimizer::pruning::{PruningPredicate, PruningPredicateBuilder};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::file::metadata::ParquetMetaData;

/// The pruning predicate of a scan's filters over the table's data columns, if any part of
/// them can prune.
pub fn predicate(
    state: &dyn Session,
    table: &SchemaRef,
    filters: &[Expr],
) -> Option<Arc<PruningPredicate>> {
    let expr = conjunction(filters.iter().cloned())?;
    let df_schema = DFSchema::try_from(table.as_ref().clone()).ok()?;
    let physical = state.create_physical_expr(expr, &df_schema).ok()?;
    let predicate = PruningPredicateBuilder::new()
        .with_file_schema(Arc::clone(table))
        .try_build(physical)
        .ok()?;
    (!predicate.always_true()).then(|| Arc::new(predicate))
}

/// The row groups of a Parquet file the predicate cannot rule out, in file order.
pub fn kept_row_groups(
    predicate: &PruningPredicate,
    meta: &ParquetMetaData,
    file_schema: &Schema,
    table: &Schema,
) -> Vec<usize> {
    let stats = RowGroupStats {
        meta,
        file_schema,
        table,
    };
    match predicate.prune(&stats) {
        Ok(keep) => keep
            .iter()
            .enumerate()
            .filter_map(|(i, k)| k.then_some(i))
            .collect(),
        Err(_) => (0..meta.num_row_groups()).collect(),
    }
}

struct RowGroupStats<'a> {
    meta: &'a ParquetMetaData,
    file_schema: &'a Schema,
    table: &'a Schema,
}

impl RowGroupStats<'_> {
    fn converter(&self, column: &Column) -> Option<StatisticsConverter<'_>> {
        StatisticsConverter::try_new(
            &column.name,
            self.file_schema,
            self.meta.file_metadata().schema_descr(),
        )
        .ok()
    }

    /// Values in the table's type for `column`.
    fn conform(&self, column: &Column, values: ArrayRef) -> Option<ArrayRef> {
        let target = self.table.field_with_name(&column.name).ok()?.data_type();
        if values.data_type() == target {
            Some(values)
        } else {
            arrow::compute::cast(&values, target).ok()
        }
    }
}

impl PruningStatistics for RowGroupStats<'_> {
    fn min_values(&self, column: &Column) -> Option<ArrayRef> {
        let values = self
            .converter(column)?
            .row_group_mins(self.meta.row_groups().iter())
            .ok()?;
        self.conform(column, values)
    }

    fn max_values(&self, column: &Column) -> Option<ArrayRef> {
        let values = self
            .converter(column)?
            .row_group_maxes(self.meta.row_groups().iter())
            .ok()?;
        self.conform(column, values)
    }

    fn num_containers(&self) -> usize {
        self.meta.num_row_groups()
    }

    fn null_counts(&self, column: &Column) -> Option<ArrayRef> {
        let counts = self
            .converter(column)?
            .row_group_null_counts(self.meta.row_groups().iter())
            .ok()?;
        Some(Arc::new(counts))
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        let counts: UInt64Array = self
            .meta
            .row_groups()
            .iter()
            .map(|rg| Some(rg.num_rows() as u64))
            .collect();
        Some(Arc::new(counts))
    }

    fn contained(&self, _column: &Column, _values: &HashSet<ScalarValue>) -> Option<BooleanArray> {
        None
    }
}

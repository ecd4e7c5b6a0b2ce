//! `ORDER BY _row` over one shard without copying the rows. DataFusion plans it as a
//! round-robin repartition of the scan (so the expressions above run on every core), which
//! gathers batches up to the batch size, and a sort-preserving merge, which interleaves them
//! back row by row: two copies of every row. With 3 KB documents that is most of what a
//! cheap normalizer costs (`whitespace`: 17% of its time went to the two).
//!
//! `RowOrder`, a physical optimizer rule, replaces that pattern: the scan deals its chunks
//! to the partitions itself (`scan::dealt`), and `RowMergeExec` restores file order by
//! handing on whole runs of rows, slices of the batches as they come. Rows in a run are
//! never copied; runs shorter than `MIN_RUN` rows are gathered into one batch.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef, UInt64Type};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result as DfResult, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{LexOrdering, OrderingRequirements, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::common::spawn_buffered;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan,
    ExecutionPlanProperties, Partitioning, PlanProperties, ReplaceChildrenOptions,
    apply_expression_roots,
};
use futures::StreamExt;

use crate::dataset::Virtual;
use crate::dataset::scan;
use datafusion::datasource::source::DataSourceExec;

/// Runs this short or shorter are copied into a batch with their neighbours rather than
/// handed on as slices of their own (a merge of finely interleaved partitions would otherwise
/// yield batches of a row or two).
const MIN_RUN: usize = 64;

/// The rule; see the module's documentation.
#[derive(Debug)]
pub struct RowOrder;

impl PhysicalOptimizerRule for RowOrder {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(merge) = node.downcast_ref::<SortPreservingMergeExec>() else {
                return Ok(Transformed::no(node));
            };
            let (Some(key), Some(input)) = (row_key(merge), dealt(merge.input())) else {
                return Ok(Transformed::no(node));
            };
            let exec = RowMergeExec::new(input, merge.expr().clone(), key, merge.fetch());
            Ok(Transformed::yes(Arc::new(exec) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "row_order"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The column index of a merge on `_row` ascending, alone.
fn row_key(merge: &SortPreservingMergeExec) -> Option<usize> {
    let mut exprs = merge.expr().iter();
    let (sort, None) = (exprs.next()?, exprs.next()) else {
        return None;
    };
    let column = sort.expr.downcast_ref::<Column>()?;
    let schema = merge.input().schema();
    let field = schema.field(column.index());
    (!sort.options.descending
        && column.name() == Virtual::Row.name()
        && field.data_type() == &DataType::UInt64)
        .then_some(column.index())
}

/// `plan` with the round-robin repartition of a one-partition scan below it (through nodes
/// that keep each partition's order and count) replaced by the scan dealing to as many
/// partitions; `None` where the plan is not that.
fn dealt(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    if let Some(repartition) = plan.downcast_ref::<RepartitionExec>() {
        let Partitioning::RoundRobinBatch(n) = repartition.partitioning() else {
            return None;
        };
        let exec = repartition.input().downcast_ref::<DataSourceExec>()?;
        return Some(scan::dealt(exec, *n)? as Arc<dyn ExecutionPlan>);
    }
    let children = plan.children();
    let [child] = children.as_slice() else {
        return None;
    };
    let keeps = plan.maintains_input_order() == [true]
        && plan.output_partitioning().partition_count()
            == child.output_partitioning().partition_count();
    if !keeps {
        return None;
    }
    let child = dealt(child)?;
    let options = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute);
    Arc::clone(plan).replace_children(vec![child], options).ok()
}

/// Merges partitions that are each in `_row` order into one stream in `_row` order, handing
/// on runs as slices of the input batches.
#[derive(Debug)]
pub struct RowMergeExec {
    input: Arc<dyn ExecutionPlan>,
    ordering: LexOrdering,
    key: usize,
    fetch: Option<usize>,
    props: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl RowMergeExec {
    fn new(
        input: Arc<dyn ExecutionPlan>,
        ordering: LexOrdering,
        key: usize,
        fetch: Option<usize>,
    ) -> RowMergeExec {
        let mut eq = input.equivalence_properties().clone();
        eq.clear_per_partition_constants();
        eq.add_ordering(ordering.clone());
        let props = PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(1),
            input.pipeline_behavior(),
            input.boundedness(),
        );
        RowMergeExec {
            input,
            ordering,
            key,
            fetch,
            props: Arc::new(props),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for RowMergeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RowMergeExec: [{}]", self.ordering)?;
        if let Some(fetch) = self.fetch {
            write!(f, ", fetch={fetch}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for RowMergeExec {
    fn name(&self) -> &str {
        "RowMergeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn fetch(&self) -> Option<usize> {
        self.fetch
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::UnspecifiedDistribution]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn required_input_ordering(&self) -> Vec<Option<OrderingRequirements>> {
        vec![Some(OrderingRequirements::from(self.ordering.clone()))]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        apply_expression_roots(self.ordering.iter().map(|sort| &sort.expr), f)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| datafusion::error::DataFusionError::Internal("one child".into()))?;
        Ok(Arc::new(RowMergeExec::new(
            input,
            self.ordering.clone(),
            self.key,
            self.fetch,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("RowMergeExec has one partition, not {partition}");
        }
        // Each input on a task of its own, so they all run while the merge waits on one.
        let inputs = (0..self.input.output_partitioning().partition_count())
            .map(|p| {
                Ok(spawn_buffered(
                    self.input.execute(p, Arc::clone(&context))?,
                    2,
                ))
            })
            .collect::<DfResult<Vec<_>>>()?;
        let merge = Merge {
            heads: vec![None; inputs.len()],
            done: vec![false; inputs.len()],
            inputs,
            key: self.key,
            schema: self.schema(),
            remaining: self.fetch,
            batch_size: context.session_config().batch_size(),
            short: Vec::new(),
            short_rows: 0,
            ready: VecDeque::new(),
            metrics: BaselineMetrics::new(&self.metrics, partition),
        };
        let stream = futures::stream::try_unfold(merge, |mut m| async move {
            Ok(m.next_batch().await?.map(|b| (b, m)))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            stream,
        )))
    }
}

struct Merge {
    inputs: Vec<SendableRecordBatchStream>,
    /// Each input's batch in hand and the first of its rows not yet handed on.
    heads: Vec<Option<(RecordBatch, usize)>>,
    done: Vec<bool>,
    key: usize,
    schema: SchemaRef,
    remaining: Option<usize>,
    batch_size: usize,
    /// Short runs waiting to be joined into one batch.
    short: Vec<RecordBatch>,
    short_rows: usize,
    ready: VecDeque<RecordBatch>,
    metrics: BaselineMetrics,
}

impl Merge {
    async fn next_batch(&mut self) -> DfResult<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.ready.pop_front() {
                self.metrics.record_output(batch.num_rows());
                return Ok(Some(batch));
            }
            if self.remaining == Some(0) {
                return Ok(None);
            }
            for i in 0..self.inputs.len() {
                while self.heads[i].is_none() && !self.done[i] {
                    match self.inputs[i].next().await {
                        None => self.done[i] = true,
                        Some(batch) => {
                            let batch = batch?;
                            if batch.column(self.key).null_count() > 0 {
                                return internal_err!("RowMergeExec: a null _row");
                            }
                            if batch.num_rows() > 0 {
                                self.heads[i] = Some((batch, 0));
                            }
                        }
                    }
                }
            }
            let firsts: Vec<Option<u64>> = self
                .heads
                .iter()
                .map(|h| h.as_ref().map(|(b, at)| keys(b, self.key)[*at]))
                .collect();
            let Some(p) = (0..firsts.len())
                .filter(|&i| firsts[i].is_some())
                .min_by_key(|&i| firsts[i])
            else {
                self.flush_short()?;
                if self.ready.is_empty() {
                    return Ok(None);
                }
                continue;
            };
            // The run goes on up to the smallest key another input holds.
            let bound = (0..firsts.len())
                .filter(|&i| i != p)
                .filter_map(|i| firsts[i])
                .min();
            let (batch, at) = self.heads[p].take().expect("chosen head");
            let end = match bound {
                None => batch.num_rows(),
                Some(b) => at + keys(&batch, self.key)[at..].partition_point(|&k| k <= b),
            };
            let mut len = end - at;
            if let Some(r) = &mut self.remaining {
                len = len.min(*r);
                *r -= len;
            }
            let run = batch.slice(at, len);
            if end < batch.num_rows() {
                self.heads[p] = Some((batch, end));
            }
            if len > MIN_RUN {
                self.flush_short()?;
                self.ready.push_back(run);
            } else {
                self.short_rows += len;
                self.short.push(run);
                if self.short_rows >= self.batch_size {
                    self.flush_short()?;
                }
            }
            if self.remaining == Some(0) {
                self.flush_short()?;
            }
        }
    }

    fn flush_short(&mut self) -> DfResult<()> {
        if !self.short.is_empty() {
            let batch = arrow::compute::concat_batches(&self.schema, &self.short)?;
            self.short.clear();
            self.short_rows = 0;
            self.ready.push_back(batch);
        }
        Ok(())
    }
}

fn keys(batch: &RecordBatch, key: usize) -> &[u64] {
    batch.column(key).as_primitive::<UInt64Type>().values()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::UInt64Array;
    use arrow::compute::SortOptions;
    use arrow::datatypes::{Field, Schema};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_expr::PhysicalSortExpr;
    use futures::TryStreamExt;
    use proptest::prelude::*;

    /// Rows `0..n` dealt to `parts` partitions in runs of the given lengths, each partition's
    /// rows cut into batches of `cut` rows, merged back with `fetch`.
    fn merged(n: u64, parts: usize, runs: &[usize], cut: usize, fetch: Option<usize>) -> Vec<u64> {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "_row",
            DataType::UInt64,
            false,
        )]));
        let mut dealt: Vec<Vec<u64>> = vec![Vec::new(); parts];
        let (mut next, mut turn) = (0, 0);
        for &run in runs.iter().cycle() {
            if next >= n {
                break;
            }
            let end = (next + run as u64).min(n);
            dealt[turn % parts].extend(next..end);
            (next, turn) = (end, turn + 1);
        }
        let partitions: Vec<Vec<RecordBatch>> = dealt
            .iter()
            .map(|k| {
                k.chunks(cut)
                    .map(|c| {
                        let column = Arc::new(UInt64Array::from(c.to_vec()));
                        RecordBatch::try_new(Arc::clone(&schema), vec![column]).unwrap()
                    })
                    .collect()
            })
            .collect();
        let input = MemorySourceConfig::try_new_exec(&partitions, Arc::clone(&schema), None)
            .unwrap() as Arc<dyn ExecutionPlan>;
        let sort = PhysicalSortExpr::new(Arc::new(Column::new("_row", 0)), SortOptions::default());
        let exec = RowMergeExec::new(input, LexOrdering::new([sort]).unwrap(), 0, fetch);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = runtime.block_on(async {
            let context = Arc::new(TaskContext::default());
            exec.execute(0, context)
                .unwrap()
                .try_collect()
                .await
                .unwrap()
        });
        batches.iter().flat_map(|b| keys(b, 0).to_vec()).collect()
    }

    #[test]
    fn chunk_sized_runs_come_back_in_order() {
        let rows = merged(10_000, 2, &[700], 1000, None);
        assert_eq!(rows, (0..10_000).collect::<Vec<_>>());
        let first = merged(10_000, 3, &[700, 5, 300], 8192, Some(1234));
        assert_eq!(first, (0..1234).collect::<Vec<_>>());
    }

    proptest! {
        #[test]
        fn any_dealing_merges_to_row_order(
            n in 0u64..3000,
            parts in 1usize..5,
            runs in proptest::collection::vec(1usize..200, 1..8),
            cut in 1usize..500,
            fetch in proptest::option::of(0usize..3000),
        ) {
            let want: Vec<u64> = (0..fetch.map_or(n, |f| (f as u64).min(n))).collect();
            prop_assert_eq!(merged(n, parts, &runs, cut, fetch), want);
        }
    }
}

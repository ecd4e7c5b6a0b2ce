//! The metric kernels as SQL aggregate functions. Rows where either argument is NULL are
//! skipped. Label metrics keep a count per distinct (x, y) label pair, so their memory grows
//! with the labels, not the rows; numeric metrics keep the (x, y) values (ranks and quantiles
//! need them all). Partial states from parallel partitions are merged, and the kernel runs
//! once at the end.
//!
//! ```sql
//! SELECT cohen_kappa(a.label, b.label) FROM a JOIN b USING (key);
//! SELECT roc_auc(score, label = 'pos'), ece(score, label = 'pos', 10) FROM preds;
//! SELECT confusion_matrix(gold, pred) FROM preds;  -- {"labels":[...],"matrix":[[...]]}
//! ```

use std::fmt;
use std::sync::Arc;

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray, StringArray, UInt64Array};
use arrow::buffer::OffsetBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;

use pick_metrics::agreement::{Confusion, Weights};
use pick_metrics::calibration::ece;
use pick_metrics::classification::per_class_of;
use pick_metrics::correlation::{kendall_tau_b, pearson, spearman};
use pick_metrics::interned::Interned;
use pick_metrics::quantile;
use pick_metrics::ranking::{average_precision, roc_auc};
use pick_metrics::regression::errors;

/// Which kernel an aggregate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Metric {
    CohenKappa,
    WeightedKappa,
    Precision,
    Recall,
    F1,
    RocAuc,
    AveragePrecision,
    Spearman,
    KendallTau,
    Pearson,
    Mae,
    Rmse,
    R2,
    Ece,
    Quantile,
    ConfusionMatrix,
}

impl Metric {
    const ALL: [Metric; 16] = [
        Metric::CohenKappa,
        Metric::WeightedKappa,
        Metric::Precision,
        Metric::Recall,
        Metric::F1,
        Metric::RocAuc,
        Metric::AveragePrecision,
        Metric::Spearman,
        Metric::KendallTau,
        Metric::Pearson,
        Metric::Mae,
        Metric::Rmse,
        Metric::R2,
        Metric::Ece,
        Metric::Quantile,
        Metric::ConfusionMatrix,
    ];

    fn name(self) -> &'static str {
        match self {
            Metric::CohenKappa => "cohen_kappa",
            Metric::WeightedKappa => "weighted_kappa",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::F1 => "f1",
            Metric::RocAuc => "roc_auc",
            Metric::AveragePrecision => "average_precision",
            Metric::Spearman => "spearman",
            Metric::KendallTau => "kendall_tau",
            Metric::Pearson => "pearson",
            Metric::Mae => "mae",
            Metric::Rmse => "rmse",
            Metric::R2 => "r2",
            Metric::Ece => "ece",
            Metric::Quantile => "quantile",
            Metric::ConfusionMatrix => "confusion_matrix",
        }
    }

    /// Labels are compared as strings; everything else is numeric.
    fn on_labels(self) -> bool {
        matches!(
            self,
            Metric::CohenKappa
                | Metric::WeightedKappa
                | Metric::Precision
                | Metric::Recall
                | Metric::F1
                | Metric::ConfusionMatrix
        )
    }

    /// Argument counts: the two columns (one for `quantile`), then an optional or required
    /// literal.
    fn arity(self) -> (usize, usize) {
        match self {
            Metric::WeightedKappa | Metric::Precision | Metric::Recall | Metric::F1 => (3, 3),
            Metric::Ece => (2, 3),
            _ => (2, 2),
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MetricAggregate {
    metric: Metric,
    signature: Signature,
}

/// Every metric aggregate.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    Metric::ALL
        .into_iter()
        .map(|metric| {
            AggregateUDF::from(MetricAggregate {
                metric,
                signature: Signature::variadic_any(Volatility::Immutable),
            })
        })
        .collect()
}

/// The literal parameter of a call (`'quadratic'`, `10`, `'pos'`, `0.9`).
fn literal_arg(args: &AccumulatorArgs, i: usize) -> Option<ScalarValue> {
    args.exprs
        .get(i)
        .and_then(|e| e.downcast_ref::<Literal>().map(|l| l.value().clone()))
}

impl AggregateUDFImpl for MetricAggregate {
    fn name(&self) -> &str {
        self.metric.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let (lo, hi) = self.metric.arity();
        if arg_types.len() < lo || arg_types.len() > hi {
            return plan_err!(
                "{}() takes {} arguments, got {}",
                self.metric.name(),
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo} or {hi}")
                },
                arg_types.len()
            );
        }
        Ok(if self.metric == Metric::ConfusionMatrix {
            DataType::Utf8
        } else {
            DataType::Float64
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |item: DataType| DataType::List(Arc::new(Field::new_list_field(item, true)));
        let fields = if self.metric.on_labels() {
            vec![
                ("x", list(DataType::Utf8)),
                ("y", list(DataType::Utf8)),
                ("n", list(DataType::UInt64)),
            ]
        } else {
            vec![
                ("x", list(DataType::Float64)),
                ("y", list(DataType::Float64)),
            ]
        };
        Ok(fields
            .into_iter()
            .map(|(s, t)| Arc::new(Field::new(format_state_name(args.name, s), t, true)))
            .collect())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let metric = self.metric;
        let param = if metric.arity().1 == 3 {
            literal_arg(&args, 2)
        } else {
            None
        };
        if metric.arity().0 == 3 && param.is_none() {
            return plan_err!("{}(): its last argument must be a literal", metric.name());
        }
        let pairs = if metric.on_labels() {
            Pairs::Labels(LabelPairs::default())
        } else {
            Pairs::Numbers(vec![], vec![])
        };
        Ok(Box::new(MetricAccumulator {
            metric,
            param,
            pairs,
        }))
    }
}

enum Pairs {
    Numbers(Vec<f64>, Vec<f64>),
    Labels(LabelPairs),
}

/// How many rows carry each (x, y) label pair: constant memory per distinct pair.
#[derive(Default)]
struct LabelPairs {
    labels: Interned,
    counts: HashMap<(u32, u32), u64>,
}

impl LabelPairs {
    fn add(&mut self, x: &str, y: &str, n: u64) {
        let key = (self.labels.id(x), self.labels.id(y));
        *self.counts.entry(key).or_default() += n;
    }

    fn confusion(&self) -> Confusion {
        let names = &self.labels.names;
        Confusion::from_counts(
            self.counts
                .iter()
                .map(|(&(x, y), &n)| ((names[x as usize].as_str(), names[y as usize].as_str()), n)),
        )
    }

    fn bytes(&self) -> usize {
        self.labels.bytes() + self.counts.capacity() * (size_of::<((u32, u32), u64)>() + 1)
    }
}

struct MetricAccumulator {
    metric: Metric,
    param: Option<ScalarValue>,
    pairs: Pairs,
}

impl fmt::Debug for MetricAccumulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MetricAccumulator({})", self.metric.name())
    }
}

impl MetricAccumulator {
    fn push(&mut self, x: &ArrayRef, y: &ArrayRef) -> Result<()> {
        match &mut self.pairs {
            Pairs::Numbers(xs, ys) => {
                let (x, y) = (cast(x, &DataType::Float64)?, cast(y, &DataType::Float64)?);
                let (x, y) = (
                    x.as_primitive::<arrow::datatypes::Float64Type>(),
                    y.as_primitive::<arrow::datatypes::Float64Type>(),
                );
                for i in 0..x.len() {
                    if x.is_valid(i) && y.is_valid(i) {
                        xs.push(x.value(i));
                        ys.push(y.value(i));
                    }
                }
            }
            Pairs::Labels(pairs) => {
                let (x, y) = (cast(x, &DataType::Utf8)?, cast(y, &DataType::Utf8)?);
                let (x, y) = (x.as_string::<i32>(), y.as_string::<i32>());
                for i in 0..x.len() {
                    if x.is_valid(i) && y.is_valid(i) {
                        pairs.add(x.value(i), y.value(i), 1);
                    }
                }
            }
        }
        Ok(())
    }

    fn param_str(&self) -> Result<String> {
        match &self.param {
            Some(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)),
            ) => Ok(s.clone()),
            Some(v) if !v.is_null() => Ok(v.to_string()),
            _ => exec_err!("{}(): missing parameter", self.metric.name()),
        }
    }

    fn param_f64(&self, default: f64) -> Result<f64> {
        match &self.param {
            None => Ok(default),
            Some(v) => match v.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(Some(f)) => Ok(f),
                _ => exec_err!("{}(): the parameter must be a number", self.metric.name()),
            },
        }
    }

    fn compute(&self) -> Result<Option<f64>> {
        let m = self.metric;
        Ok(match &self.pairs {
            Pairs::Labels(pairs) => {
                let c = pairs.confusion();
                match m {
                    Metric::CohenKappa => c.kappa(Weights::Nominal),
                    Metric::WeightedKappa => {
                        let w = match self.param_str()?.to_ascii_lowercase().as_str() {
                            "linear" => Weights::Linear,
                            "quadratic" => Weights::Quadratic,
                            other => {
                                return exec_err!(
                                    "weighted_kappa(): weights are 'linear' or 'quadratic', not '{other}'"
                                );
                            }
                        };
                        if let Some(bad) =
                            c.labels.iter().find(|l| l.trim().parse::<f64>().is_err())
                        {
                            return exec_err!("weighted_kappa(): label '{bad}' is not a number");
                        }
                        c.kappa(w)
                    }
                    Metric::ConfusionMatrix => None,
                    _ => {
                        let label = self.param_str()?;
                        per_class_of(&c)
                            .into_iter()
                            .find(|c| c.label == label)
                            .map(|c| match m {
                                Metric::Precision => c.precision,
                                Metric::Recall => c.recall,
                                _ => c.f1,
                            })
                    }
                }
            }
            Pairs::Numbers(x, y) => match m {
                Metric::RocAuc | Metric::AveragePrecision => {
                    let positive: Vec<bool> = y.iter().map(|v| *v > 0.0).collect();
                    if m == Metric::RocAuc {
                        roc_auc(x, &positive)
                    } else {
                        average_precision(x, &positive)
                    }
                }
                Metric::Spearman => spearman(x, y),
                Metric::KendallTau => kendall_tau_b(x, y),
                Metric::Pearson => pearson(x, y),
                Metric::Mae => errors(x, y).map(|e| e.mae),
                Metric::Rmse => errors(x, y).map(|e| e.rmse),
                Metric::R2 => errors(x, y).map(|e| e.r2),
                Metric::Ece => {
                    let bins = self.param_f64(10.0)?;
                    if bins < 1.0 || bins.fract() != 0.0 {
                        return exec_err!("ece(): bins must be a positive integer, got {bins}");
                    }
                    ece(x, y, bins as usize).map(|(e, _)| e)
                }
                Metric::Quantile => {
                    let q = self.param_f64(0.5)?;
                    if !(0.0..=1.0).contains(&q) {
                        return exec_err!("quantile(): q must be in [0, 1], got {q}");
                    }
                    let mut sorted = x.clone();
                    sorted.sort_by(f64::total_cmp);
                    quantile(&sorted, q)
                }
                _ => unreachable!("label metrics collect labels"),
            },
        })
    }
}

fn list_of(values: ArrayRef) -> ScalarValue {
    let field = Arc::new(Field::new_list_field(values.data_type().clone(), true));
    let offsets = OffsetBuffer::from_lengths([values.len()]);
    ScalarValue::List(Arc::new(ListArray::new(field, offsets, values, None)))
}

impl Accumulator for MetricAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        // quantile(x, q) has one column: it is collected as (x, x).
        let y = if self.metric == Metric::Quantile {
            &values[0]
        } else {
            &values[1]
        };
        self.push(&values[0], y)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (xs, ys) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for i in 0..xs.len() {
            if !(xs.is_valid(i) && ys.is_valid(i)) {
                continue;
            }
            match &mut self.pairs {
                Pairs::Numbers(..) => self.push(&xs.value(i), &ys.value(i))?,
                Pairs::Labels(pairs) => {
                    let (x, y, n) = (
                        xs.value(i),
                        ys.value(i),
                        states[2].as_list::<i32>().value(i),
                    );
                    let (x, y) = (x.as_string::<i32>(), y.as_string::<i32>());
                    let n = n.as_primitive::<arrow::datatypes::UInt64Type>();
                    for j in 0..x.len() {
                        pairs.add(x.value(j), y.value(j), n.value(j));
                    }
                }
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(match &mut self.pairs {
            Pairs::Numbers(x, y) => vec![
                list_of(Arc::new(Float64Array::from(std::mem::take(x)))),
                list_of(Arc::new(Float64Array::from(std::mem::take(y)))),
            ],
            Pairs::Labels(pairs) => {
                let names = &pairs.labels.names;
                let (mut x, mut y, mut n) = (vec![], vec![], vec![]);
                for (&(a, b), &count) in &pairs.counts {
                    x.push(names[a as usize].as_str());
                    y.push(names[b as usize].as_str());
                    n.push(count);
                }
                let state = vec![
                    list_of(Arc::new(StringArray::from(x))),
                    list_of(Arc::new(StringArray::from(y))),
                    list_of(Arc::new(UInt64Array::from(n))),
                ];
                *pairs = LabelPairs::default();
                state
            }
        })
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if let (Metric::ConfusionMatrix, Pairs::Labels(pairs)) = (self.metric, &self.pairs) {
            let c = pairs.confusion();
            let json = serde_json::json!({"labels": c.labels, "matrix": c.matrix});
            return Ok(ScalarValue::Utf8(Some(json.to_string())));
        }
        Ok(ScalarValue::Float64(self.compute()?))
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + match &self.pairs {
                Pairs::Numbers(x, y) => (x.capacity() + y.capacity()) * 8,
                Pairs::Labels(pairs) => pairs.bytes(),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(values: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn kappa_accumulator() -> MetricAccumulator {
        MetricAccumulator {
            metric: Metric::CohenKappa,
            param: None,
            pairs: Pairs::Labels(LabelPairs::default()),
        }
    }

    #[test]
    fn label_state_grows_with_labels_not_rows() {
        let (a, b) = (labels(&["x", "y", "x", "x"]), labels(&["x", "y", "y", "x"]));
        let mut acc = kappa_accumulator();
        acc.update_batch(&[Arc::clone(&a), Arc::clone(&b)]).unwrap();
        let once = acc.size();
        for _ in 0..10_000 {
            acc.update_batch(&[Arc::clone(&a), Arc::clone(&b)]).unwrap();
        }
        assert_eq!(acc.size(), once);

        // Merged partial states count the same as one pass over every row.
        let mut other = kappa_accumulator();
        other.update_batch(&[a, b]).unwrap();
        let state: Vec<ArrayRef> = other
            .state()
            .unwrap()
            .iter()
            .map(|s| s.to_array().unwrap())
            .collect();
        acc.merge_batch(&state).unwrap();
        let Pairs::Labels(pairs) = &acc.pairs else {
            unreachable!()
        };
        let c = pairs.confusion();
        assert_eq!(c.matrix, vec![vec![2 * 10_002, 10_002], vec![0, 10_002]]);
        assert_eq!(acc.evaluate().unwrap(), ScalarValue::Float64(Some(0.5)));
    }
}

//! The metric kernels as SQL aggregate functions. Each collects its (x, y) pairs (rows
//! where either is NULL are skipped), merges partial states from parallel partitions by
//! concatenation, and runs its kernel once at the end.
//!
//! ```sql
//! SELECT cohen_kappa(a.label, b.label) FROM a JOIN b USING (key);
//! SELECT roc_auc(score, label = 'pos'), ece(score, label = 'pos', 10) FROM preds;
//! SELECT confusion_matrix(gold, pred) FROM preds;  -- {"labels":[...],"matrix":[[...]]}
//! ```

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, ListArray, StringArray};
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
use pick_metrics::classification::per_class;
use pick_metrics::correlation::{kendall_tau_b, pearson, spearman};
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
        let item = if self.metric.on_labels() {
            DataType::Utf8
        } else {
            DataType::Float64
        };
        let list = DataType::List(Arc::new(Field::new_list_field(item, true)));
        Ok(["x", "y"]
            .iter()
            .map(|s| {
                Arc::new(Field::new(
                    format_state_name(args.name, s),
                    list.clone(),
                    true,
                ))
            })
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
            Pairs::Labels(vec![], vec![])
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
    Labels(Vec<String>, Vec<String>),
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
            Pairs::Labels(xs, ys) => {
                let (x, y) = (cast(x, &DataType::Utf8)?, cast(y, &DataType::Utf8)?);
                let (x, y) = (x.as_string::<i32>(), y.as_string::<i32>());
                for i in 0..x.len() {
                    if x.is_valid(i) && y.is_valid(i) {
                        xs.push(x.value(i).to_string());
                        ys.push(y.value(i).to_string());
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
            Pairs::Labels(a, b) => {
                let pairs = a
                    .iter()
                    .map(String::as_str)
                    .zip(b.iter().map(String::as_str));
                match m {
                    Metric::CohenKappa => Confusion::from_pairs(pairs).kappa(Weights::Nominal),
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
                        let c = Confusion::from_pairs(pairs);
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
                        let gold: Vec<&str> = a.iter().map(String::as_str).collect();
                        let pred: Vec<&str> = b.iter().map(String::as_str).collect();
                        per_class(&gold, &pred)
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
            if xs.is_valid(i) && ys.is_valid(i) {
                self.push(&xs.value(i), &ys.value(i))?;
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
            Pairs::Labels(x, y) => vec![
                list_of(Arc::new(StringArray::from(std::mem::take(x)))),
                list_of(Arc::new(StringArray::from(std::mem::take(y)))),
            ],
        })
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if let (Metric::ConfusionMatrix, Pairs::Labels(a, b)) = (self.metric, &self.pairs) {
            let c = Confusion::from_pairs(
                a.iter()
                    .map(String::as_str)
                    .zip(b.iter().map(String::as_str)),
            );
            let json = serde_json::json!({"labels": c.labels, "matrix": c.matrix});
            return Ok(ScalarValue::Utf8(Some(json.to_string())));
        }
        Ok(ScalarValue::Float64(self.compute()?))
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + match &self.pairs {
                Pairs::Numbers(x, y) => (x.capacity() + y.capacity()) * 8,
                Pairs::Labels(x, y) => x.iter().chain(y).map(|s| s.capacity() + 24).sum(),
            }
    }
}

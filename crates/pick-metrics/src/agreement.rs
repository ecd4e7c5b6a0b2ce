//! Agreement between two annotators: confusion matrix and Cohen's κ (plain and weighted).

use std::collections::BTreeMap;

/// Counts of (a, b) label pairs over the sorted union of labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    pub labels: Vec<String>,
    /// `matrix[i][j]`: rows labelled `labels[i]` by A and `labels[j]` by B.
    pub matrix: Vec<Vec<u64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// Every disagreement costs 1.
    Nominal,
    /// Cost |vᵢ − vⱼ|.
    Linear,
    /// Cost (vᵢ − vⱼ)².
    Quadratic,
}

impl Confusion {
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Confusion {
        let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for (a, b) in pairs {
            *counts.entry((a, b)).or_default() += 1;
        }
        Confusion::from_counts(counts)
    }

    /// From counts of (a, b) label pairs; a pair may appear more than once.
    pub fn from_counts<'a>(
        counts: impl IntoIterator<Item = ((&'a str, &'a str), u64)>,
    ) -> Confusion {
        let counts: Vec<((&str, &str), u64)> = counts.into_iter().collect();
        let mut labels: Vec<&str> = counts.iter().flat_map(|((a, b), _)| [*a, *b]).collect();
        labels.sort_by(|x, y| label_order(x, y));
        labels.dedup();
        let index: std::collections::HashMap<&str, usize> =
            labels.iter().enumerate().map(|(i, l)| (*l, i)).collect();
        let mut matrix = vec![vec![0; labels.len()]; labels.len()];
        for ((a, b), c) in &counts {
            matrix[index[a]][index[b]] += c;
        }
        Confusion {
            labels: labels.into_iter().map(String::from).collect(),
            matrix,
        }
    }

    pub fn total(&self) -> u64 {
        self.matrix.iter().flatten().sum()
    }

    pub fn agreements(&self) -> u64 {
        (0..self.labels.len()).map(|i| self.matrix[i][i]).sum()
    }

    /// Cohen's κ = 1 − Σ W∘M / Σ W∘E with E the outer product of the marginals over N.
    /// Weighted forms use the labels' numeric values as distances (all labels must parse as
    /// numbers); `None` if they do not, or if κ is undefined (a single label overall).
    pub fn kappa(&self, weights: Weights) -> Option<f64> {
        let k = self.labels.len();
        let n = self.total() as f64;
        if n == 0.0 {
            return None;
        }
        let values: Vec<f64> = match weights {
            Weights::Nominal => vec![],
            _ => self
                .labels
                .iter()
                .map(|l| l.trim().parse::<f64>().ok())
                .collect::<Option<_>>()?,
        };
        let w = |i: usize, j: usize| match weights {
            Weights::Nominal => f64::from(u8::from(i != j)),
            Weights::Linear => (values[i] - values[j]).abs(),
            Weights::Quadratic => (values[i] - values[j]).powi(2),
        };
        let rows: Vec<f64> = self
            .matrix
            .iter()
            .map(|r| r.iter().sum::<u64>() as f64)
            .collect();
        let cols: Vec<f64> = (0..k)
            .map(|j| self.matrix.iter().map(|r| r[j]).sum::<u64>() as f64)
            .collect();
        let (mut observed, mut expected) = (0.0, 0.0);
        for (i, (row, row_total)) in self.matrix.iter().zip(&rows).enumerate() {
            for (j, (&count, col_total)) in row.iter().zip(&cols).enumerate() {
                observed += w(i, j) * count as f64;
                expected += w(i, j) * row_total * col_total / n;
            }
        }
        (expected != 0.0).then(|| 1.0 - observed / expected)
    }
}

/// Labels sort numerically when both are numbers ("2" before "10"), else as strings.
pub fn label_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    }
}

/// Landis & Koch's reading of κ.
pub fn interpret_kappa(kappa: f64) -> &'static str {
    match kappa {
        k if k < 0.0 => "Poor (less than chance)",
        k if k < 0.20 => "Slight",
        k if k < 0.40 => "Fair",
        k if k < 0.60 => "Moderate",
        k if k < 0.80 => "Substantial",
        _ => "Almost Perfect",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worklog_binary_example() {
        // The worklog's confusion matrix [[608, 347], [109, 936]].
        let mut pairs = vec![];
        pairs.extend(std::iter::repeat_n(("neg", "neg"), 608));
        pairs.extend(std::iter::repeat_n(("neg", "pos"), 347));
        pairs.extend(std::iter::repeat_n(("pos", "neg"), 109));
        pairs.extend(std::iter::repeat_n(("pos", "pos"), 936));
        let c = Confusion::from_pairs(pairs);
        assert_eq!(c.matrix, vec![vec![608, 347], vec![109, 936]]);
        assert_eq!(
            format!("{:.2}%", 100.0 * c.agreements() as f64 / c.total() as f64),
            "77.20%"
        );
        let k = c.kappa(Weights::Nominal).unwrap();
        assert_eq!(format!("{k:.4}"), "0.5381");
        assert_eq!(interpret_kappa(k), "Moderate");
    }

    #[test]
    fn numeric_labels_sort_by_value() {
        let c = Confusion::from_pairs([("10", "2"), ("2", "2")]);
        assert_eq!(c.labels, ["2", "10"]);
        assert!(
            Confusion::from_pairs([("a", "a")])
                .kappa(Weights::Nominal)
                .is_none()
        );
        assert!(
            Confusion::from_pairs([("a", "b")])
                .kappa(Weights::Linear)
                .is_none()
        );
    }
}

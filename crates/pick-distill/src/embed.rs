//! Every vocabulary row through the transformer, as model2vec 0.10's `create_embeddings`
//! does: rows sorted by length, batches of 256 padded to their longest row (the padding
//! masked), one vector per row by the pooling, NaN made 0.

use candle_core::{D, DType, IndexOp, Tensor};

use crate::bert::Bert;
use crate::error::DistillError;

const BATCH: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean over the row's positions ([CLS] and [SEP] included).
    Mean,
    /// The [CLS] position.
    First,
    /// The row's last position.
    Last,
    /// The model's pooler over [CLS].
    Pooler,
}

impl Pooling {
    pub fn parse(s: &str) -> Option<Pooling> {
        Some(match s {
            "mean" => Pooling::Mean,
            "first" => Pooling::First,
            "last" => Pooling::Last,
            "pooler" => Pooling::Pooler,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::First => "first",
            Pooling::Last => "last",
            Pooling::Pooler => "pooler",
        }
    }
}

/// The vectors of `rows` (row-major, `rows.len() × bert.hidden`); `progress(done)` after
/// each batch.
pub fn embed(
    bert: &Bert,
    rows: &[Vec<u32>],
    pad_id: u32,
    pooling: Pooling,
    progress: &dyn Fn(usize),
) -> Result<Vec<f32>, DistillError> {
    let h = bert.hidden;
    if let Some(long) = rows.iter().find(|r| r.len() > bert.max_positions) {
        return Err(DistillError::Usage(format!(
            "a vocabulary entry is {} tokens long; the model takes at most {}",
            long.len(),
            bert.max_positions
        )));
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].len());
    let mut out = vec![0f32; rows.len() * h];
    let mut done = 0;
    for chunk in order.chunks(BATCH) {
        let width = chunk.iter().map(|&i| rows[i].len()).max().unwrap_or(1);
        let mut ids = Vec::with_capacity(chunk.len() * width);
        let mut mask = Vec::with_capacity(chunk.len() * width);
        for &i in chunk {
            let row = &rows[i];
            ids.extend_from_slice(row);
            ids.extend(std::iter::repeat_n(pad_id, width - row.len()));
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            mask.extend(std::iter::repeat_n(0u32, width - row.len()));
        }
        let states = bert.forward(&ids, &mask, chunk.len(), width)?;
        let pooled = match pooling {
            Pooling::Mean => {
                let m = Tensor::from_slice(&mask, (chunk.len(), width), states.device())?
                    .to_dtype(DType::F32)?;
                let counts = m.sum_keepdim(1)?.clamp(1f32, f32::MAX)?;
                states
                    .broadcast_mul(&m.unsqueeze(D::Minus1)?)?
                    .sum(1)?
                    .broadcast_div(&counts)?
            }
            Pooling::First => states.i((.., 0))?.contiguous()?,
            Pooling::Last => {
                let rows_out = chunk
                    .iter()
                    .enumerate()
                    .map(|(b, &i)| states.i((b, rows[i].len().max(1) - 1)))
                    .collect::<Result<Vec<_>, _>>()?;
                Tensor::stack(&rows_out, 0)?
            }
            Pooling::Pooler => bert.pool(&states)?.ok_or_else(|| {
                DistillError::Usage(
                    "--pooling pooler: the model has no pooler weights (pooler.dense)".into(),
                )
            })?,
        };
        let values: Vec<f32> = pooled.flatten_all()?.to_vec1()?;
        for (b, &i) in chunk.iter().enumerate() {
            for (o, v) in out[i * h..(i + 1) * h]
                .iter_mut()
                .zip(&values[b * h..(b + 1) * h])
            {
                *o = if v.is_nan() { 0.0 } else { *v };
            }
        }
        done += chunk.len();
        progress(done);
    }
    Ok(out)
}

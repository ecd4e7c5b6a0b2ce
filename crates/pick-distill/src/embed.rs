//! Every vocabulary row through the transformer, as model2vec 0.10's `create_embeddings`
//! does: rows sorted by length, batches of 256 padded to their longest row (the padding
//! masked), one vector per row by the pooling, NaN made 0.

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
            Pooling::Pooler => bert.pool(&states, chunk.len(), width).ok_or_else(|| {
                DistillError::Usage(
                    "--pooling pooler: the model has no pooler weights (pooler.dense)".into(),
                )
            })?,
            _ => {
                let mut pooled = vec![0f32; chunk.len() * h];
                for (b, &i) in chunk.iter().enumerate() {
                    let at = |p: usize| &states[(b * width + p) * h..(b * width + p + 1) * h];
                    let out = &mut pooled[b * h..(b + 1) * h];
                    let len = rows[i].len().max(1);
                    match pooling {
                        Pooling::First => out.copy_from_slice(at(0)),
                        Pooling::Last => out.copy_from_slice(at(len - 1)),
                        _ => {
                            // The row's own positions; the batch's padding is masked out.
                            for p in 0..rows[i].len() {
                                out.iter_mut().zip(at(p)).for_each(|(o, v)| *o += v);
                            }
                            out.iter_mut().for_each(|o| *o /= len as f32);
                        }
                    }
                }
                pooled
            }
        };
        for (b, &i) in chunk.iter().enumerate() {
            for (o, v) in out[i * h..(i + 1) * h]
                .iter_mut()
                .zip(&pooled[b * h..(b + 1) * h])
            {
                *o = if v.is_nan() { 0.0 } else { *v };
            }
        }
        done += chunk.len();
        progress(done);
    }
    Ok(out)
}

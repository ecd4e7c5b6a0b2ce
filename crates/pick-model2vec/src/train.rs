//! Fine-tuning a static model with a head, as model2vec 0.10's `StaticModelForClassification`
//! and `StaticModelForRegression` `fit`: the mean of the texts' token rows (times the token
//! weights, when the model has them), L2-normalized, into `Linear(dim, 512) → ReLU →
//! Linear(512, out)`; cross-entropy (optionally class-weighted) or MSE; Adam over every
//! parameter, the embeddings included; ReduceLROnPlateau on the validation loss once per epoch;
//! early stopping on validation accuracy (classification) or loss (regression); and the best
//! validation checkpoint kept (bonepick kept the last one, B25).
//!
//! The backward pass is written by hand rather than taken from a tensor library: the graph is
//! four operations (gather-mean, L2 normalization, a small MLP, the loss), its gradients are
//! checked against finite differences in the tests, and it lets the embedding gradient stay
//! sparse (only the rows a batch touched are summed) while Adam stays exactly torch's dense
//! Adam: a row that was never touched has zero moments and Adam leaves it unchanged, so only
//! rows touched at least once are updated. Work is split over threads by samples (forward and
//! backward) and by row ranges (gradient scatter and Adam), with no locks.

use std::time::Instant;

/// What the head learns.
#[derive(Debug, Clone)]
pub enum Task {
    /// Single-label classification over `classes` outputs; targets are class indices.
    /// `class_weight`: one weight per class for the loss (`None`: all equal).
    Classify {
        classes: usize,
        class_weight: Option<Vec<f32>>,
    },
    /// One value per text, mean squared error.
    Regress,
}

/// Token ids (already cut and without unknowns, as `StaticModel::ids` gives them) and targets.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub ids: Vec<Vec<u32>>,
    /// Class indices for classification, values for regression.
    pub targets: Vec<f32>,
}

impl Samples {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct FitOptions {
    pub learning_rate: f64,
    /// `None`: model2vec's rule, 32 to 512 by training size.
    pub batch_size: Option<usize>,
    pub min_epochs: Option<usize>,
    /// `None`: until early stopping.
    pub max_epochs: Option<usize>,
    /// Validation checks without improvement before stopping; `None`: never stop early.
    pub patience: Option<usize>,
    pub hidden_dim: usize,
    /// Hidden layers of the head (model2vec's `n_layers`).
    pub hidden_layers: usize,
    pub seed: u64,
    pub threads: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            learning_rate: 1e-3,
            batch_size: None,
            min_epochs: None,
            max_epochs: None,
            patience: Some(5),
            hidden_dim: 512,
            hidden_layers: 1,
            seed: 42,
            threads: 1,
        }
    }
}

/// model2vec's automatic batch size: a multiple of 32 between 32 and 512.
pub fn auto_batch_size(train: usize) -> usize {
    ((train as f64 / 30.0 / 32.0).floor().clamp(1.0, 16.0) as usize) * 32
}

/// A linear layer, `x·Wᵀ + b`, `weight` row-major `outputs × inputs` (torch's layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub inputs: usize,
    pub outputs: usize,
}

impl Dense {
    fn apply(&self, x: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.extend(
            self.weight
                .chunks_exact(self.inputs)
                .zip(&self.bias)
                .map(|(row, b)| b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>()),
        );
    }
}

/// Everything training changes, and the token → row mapping it does not.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub dim: usize,
    /// Row-major `rows × dim`.
    pub embeddings: Vec<f32>,
    /// One weight per token id, when the base model has weights (they are trained too).
    pub token_weights: Option<Vec<f32>>,
    /// Token id → embedding row, for vocabulary-quantized models.
    pub mapping: Option<Vec<u32>>,
    pub layers: Vec<Dense>,
    pub normalize: bool,
}

impl Params {
    fn row(&self, id: u32) -> usize {
        self.mapping
            .as_ref()
            .map_or(id as usize, |m| m[id as usize] as usize)
    }

    fn token_weight(&self, id: u32) -> f32 {
        self.token_weights.as_ref().map_or(1.0, |w| w[id as usize])
    }

    fn rows(&self) -> usize {
        self.embeddings.len() / self.dim
    }
}

/// A fresh head: hidden layers Kaiming-uniform (ReLU gain), the last Xavier-uniform, zero biases,
/// as model2vec initializes it.
pub fn init_head(
    dim: usize,
    hidden: usize,
    hidden_layers: usize,
    outputs: usize,
    seed: u64,
) -> Vec<Dense> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut sizes = vec![dim];
    sizes.extend(std::iter::repeat_n(hidden, hidden_layers));
    sizes.push(outputs);
    let last = sizes.len() - 2;
    (0..sizes.len() - 1)
        .map(|i| {
            let (inputs, outputs) = (sizes[i], sizes[i + 1]);
            let bound = if i == last {
                (6.0 / (inputs + outputs) as f64).sqrt()
            } else {
                (6.0 / inputs as f64).sqrt()
            } as f32;
            Dense {
                weight: (0..inputs * outputs)
                    .map(|_| (rng.f32() * 2.0 - 1.0) * bound)
                    .collect(),
                bias: vec![0.0; outputs],
                inputs,
                outputs,
            }
        })
        .collect()
}

impl crate::StaticModel {
    /// The model's parameters in training form, with `layers` as its head.
    pub fn trainable(&self, layers: Vec<Dense>) -> Params {
        Params {
            dim: self.dim(),
            embeddings: self.embeddings.clone(),
            token_weights: self
                .weights
                .as_ref()
                .map(|w| w.iter().map(|&v| v as f32).collect()),
            mapping: self
                .mapping
                .as_ref()
                .map(|m| m.iter().map(|&r| r as u32).collect()),
            layers,
            normalize: true,
        }
    }
}

/// The head's outputs for one text's ids: class probabilities (softmax), or the value.
pub fn probabilities(p: &Params, ids: &[u32]) -> Vec<f32> {
    let mut t = Trace::default();
    forward(p, ids, &mut t);
    if p.layers.last().is_some_and(|l| l.outputs == 1) {
        return t.out;
    }
    let max = t.out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = t.out.iter().map(|&l| (l - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// What one forward pass keeps for the backward pass.
#[derive(Default)]
struct Trace {
    /// The pooled vector before normalization, and its norm.
    raw: Vec<f32>,
    norm: f32,
    /// The head's input (normalized when the model normalizes).
    x: Vec<f32>,
    /// Each hidden layer's output after ReLU.
    hidden: Vec<Vec<f32>>,
    out: Vec<f32>,
}

/// `F.normalize`'s floor on the norm.
const NORM_EPS: f32 = 1e-12;

fn forward(p: &Params, ids: &[u32], t: &mut Trace) {
    let d = p.dim;
    t.raw.clear();
    t.raw.resize(d, 0.0);
    for &id in ids {
        let row = &p.embeddings[p.row(id) * d..][..d];
        let w = p.token_weight(id);
        for (s, &v) in t.raw.iter_mut().zip(row) {
            *s += v * w;
        }
    }
    if !ids.is_empty() {
        let n = ids.len() as f32;
        t.raw.iter_mut().for_each(|s| *s /= n);
    }
    t.x.clone_from(&t.raw);
    t.norm = t.raw.iter().map(|v| v * v).sum::<f32>().sqrt();
    if p.normalize {
        let n = t.norm.max(NORM_EPS);
        t.x.iter_mut().for_each(|v| *v /= n);
    }
    t.hidden.resize_with(p.layers.len() - 1, Vec::new);
    let mut input = std::mem::take(&mut t.x);
    for (i, layer) in p.layers.iter().enumerate() {
        if i + 1 == p.layers.len() {
            layer.apply(&input, &mut t.out);
        } else {
            let mut h = std::mem::take(&mut t.hidden[i]);
            layer.apply(&input, &mut h);
            h.iter_mut().for_each(|v| *v = v.max(0.0));
            if i == 0 {
                t.x = input;
            } else {
                t.hidden[i - 1] = input;
            }
            input = h;
        }
    }
    if p.layers.len() == 1 {
        t.x = input;
    } else {
        let last = p.layers.len() - 2;
        t.hidden[last] = input;
    }
}

/// The loss of one sample and d(loss)/d(outputs), before the batch's normalization; `correct`
/// for classification.
fn loss(task: &Task, out: &[f32], target: f32, grad: &mut Vec<f32>) -> (f64, bool) {
    grad.clear();
    match task {
        Task::Classify { .. } => {
            let y = target as usize;
            let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f64 = out.iter().map(|&l| ((l - max) as f64).exp()).sum();
            let log_z = max as f64 + sum.ln();
            grad.extend(out.iter().map(|&l| ((l as f64 - log_z).exp()) as f32));
            grad[y] -= 1.0;
            let best = (0..out.len())
                .reduce(|a, b| if out[b] > out[a] { b } else { a })
                .unwrap_or(0);
            (log_z - out[y] as f64, best == y)
        }
        Task::Regress => {
            let e = out[0] - target;
            grad.push(2.0 * e);
            ((e as f64) * (e as f64), false)
        }
    }
}

/// The weight of one sample in its batch's loss (class weights, or 1).
fn sample_weight(task: &Task, target: f32) -> f32 {
    match task {
        Task::Classify {
            class_weight: Some(w),
            ..
        } => w[target as usize],
        _ => 1.0,
    }
}

/// Gradients of everything but the embeddings, for one thread's share of a batch.
struct HeadGrads {
    layers: Vec<Dense>,
}

impl HeadGrads {
    fn zeros(layers: &[Dense]) -> Self {
        HeadGrads {
            layers: layers
                .iter()
                .map(|l| Dense {
                    weight: vec![0.0; l.weight.len()],
                    bias: vec![0.0; l.bias.len()],
                    inputs: l.inputs,
                    outputs: l.outputs,
                })
                .collect(),
        }
    }

    fn add(&mut self, other: &HeadGrads) {
        for (a, b) in self.layers.iter_mut().zip(&other.layers) {
            a.weight
                .iter_mut()
                .zip(&b.weight)
                .for_each(|(x, y)| *x += y);
            a.bias.iter_mut().zip(&b.bias).for_each(|(x, y)| *x += y);
        }
    }
}

/// Backward through the head and the normalization for one sample: head gradients added to
/// `grads`, d(loss)/d(pooled vector) written to `d_raw`. `g` holds d(loss)/d(outputs), scaled.
fn backward(p: &Params, t: &mut Trace, mut g: Vec<f32>, grads: &mut HeadGrads, d_raw: &mut [f32]) {
    let n = p.layers.len();
    for k in (0..n).rev() {
        let layer = &p.layers[k];
        let input: &[f32] = if k == 0 { &t.x } else { &t.hidden[k - 1] };
        let gl = &mut grads.layers[k];
        for (o, &go) in g.iter().enumerate() {
            if go == 0.0 {
                continue;
            }
            gl.bias[o] += go;
            let row = &mut gl.weight[o * layer.inputs..][..layer.inputs];
            row.iter_mut().zip(input).for_each(|(w, &a)| *w += go * a);
        }
        let mut gi = vec![0f32; layer.inputs];
        for (o, &go) in g.iter().enumerate() {
            if go == 0.0 {
                continue;
            }
            let row = &layer.weight[o * layer.inputs..][..layer.inputs];
            gi.iter_mut().zip(row).for_each(|(s, &w)| *s += go * w);
        }
        if k > 0 {
            gi.iter_mut()
                .zip(&t.hidden[k - 1])
                .for_each(|(s, &h)| *s = if h > 0.0 { *s } else { 0.0 });
        }
        g = gi;
    }
    if p.normalize {
        if t.norm > NORM_EPS {
            let dot: f32 = t.x.iter().zip(&g).map(|(y, g)| y * g).sum();
            for ((d, &gi), &y) in d_raw.iter_mut().zip(&g).zip(&t.x) {
                *d = (gi - y * dot) / t.norm;
            }
        } else {
            for (d, &gi) in d_raw.iter_mut().zip(&g) {
                *d = gi / NORM_EPS;
            }
        }
    } else {
        d_raw.copy_from_slice(&g);
    }
}

/// torch's Adam (betas 0.9/0.999, eps 1e-8, no weight decay), one step's constants.
#[derive(Clone, Copy)]
struct AdamStep {
    step_size: f32,
    bc2_sqrt: f32,
}

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const ADAM_EPS: f32 = 1e-8;

impl AdamStep {
    fn new(lr: f64, step: i32) -> Self {
        AdamStep {
            step_size: (lr / (1.0 - (BETA1 as f64).powi(step))) as f32,
            bc2_sqrt: (1.0 - (BETA2 as f64).powi(step)).sqrt() as f32,
        }
    }

    fn apply(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
            *m += (1.0 - BETA1) * (g - *m);
            *v = *v * BETA2 + (1.0 - BETA2) * g * g;
            *p -= self.step_size * *m / (v.sqrt() / self.bc2_sqrt + ADAM_EPS);
        }
    }
}

/// The gradient buffers and Adam moments of every parameter.
struct State {
    g_emb: Vec<f32>,
    m_emb: Vec<f32>,
    v_emb: Vec<f32>,
    /// Rows some batch has touched: the only rows Adam can move.
    live: Vec<bool>,
    g_w: Vec<f32>,
    m_w: Vec<f32>,
    v_w: Vec<f32>,
    m_head: Vec<Dense>,
    v_head: Vec<Dense>,
    step: i32,
}

/// torch's `ReduceLROnPlateau(mode="min", factor=0.5, patience=3, threshold=0.03 rel,
/// min_lr=1e-6)`.
struct Plateau {
    best: f64,
    bad: usize,
}

impl Plateau {
    fn step(&mut self, loss: f64, lr: &mut f64) {
        if loss < self.best * (1.0 - 0.03) {
            self.best = loss;
            self.bad = 0;
        } else {
            self.bad += 1;
        }
        if self.bad > 3 {
            let new = (*lr * 0.5).max(1e-6);
            if *lr - new > 1e-8 {
                *lr = new;
            }
            self.bad = 0;
        }
    }
}

/// One validation check, as reported.
#[derive(Debug, Clone)]
pub struct Check {
    /// Epochs finished before this check.
    pub epoch: usize,
    pub step: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// Validation accuracy (classification) or R² (regression).
    pub val_score: f64,
    pub learning_rate: f64,
    pub improved: bool,
    /// Training seconds since the previous check.
    pub seconds: f64,
    pub samples_per_second: f64,
}

pub struct Fitted {
    /// The parameters of the best validation check.
    pub params: Params,
    pub checks: Vec<Check>,
    /// Index in `checks` of the kept one.
    pub best: usize,
    pub batch_size: usize,
    pub epochs: usize,
}

/// Model2vec's validation cadence: every epoch, or every `max(250, batches/4)` steps when an
/// epoch has more than 250 batches.
fn check_interval(train: usize, batch: usize) -> Option<usize> {
    let batches = train / batch;
    (batches > 250).then(|| (batches / 4).max(250))
}

struct Trainer<'a> {
    task: &'a Task,
    threads: usize,
}

/// `count` items split into at most `threads` contiguous parts.
fn parts(count: usize, threads: usize) -> usize {
    count.div_ceil(threads.max(1)).max(1)
}

impl Trainer<'_> {
    /// The loss and accuracy (or R²) of `data`, in batches of `batch` as model2vec averages them.
    fn validate(&self, p: &Params, data: &Samples, batch: usize) -> (f64, f64) {
        let n = data.len();
        let results: Vec<(f64, f32, f32, bool, f32)> = {
            let chunk = parts(n, self.threads);
            let idx: Vec<usize> = (0..n).collect();
            std::thread::scope(|s| {
                let handles: Vec<_> = idx
                    .chunks(chunk)
                    .map(|part| {
                        s.spawn(move || {
                            let mut t = Trace::default();
                            let mut g = Vec::new();
                            part.iter()
                                .map(|&i| {
                                    forward(p, &data.ids[i], &mut t);
                                    let y = data.targets[i];
                                    let (l, ok) = loss(self.task, &t.out, y, &mut g);
                                    (l, sample_weight(self.task, y), t.out[0], ok, y)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("validation threads do not panic"))
                    .collect()
            })
        };
        // Per batch: the (weighted) mean loss; batches weighted by their size.
        let mut loss_sum = 0.0;
        for b in results.chunks(batch) {
            let w: f64 = b.iter().map(|r| r.1 as f64).sum();
            let l: f64 = b.iter().map(|r| r.0 * r.1 as f64).sum();
            loss_sum += if w > 0.0 { l / w } else { 0.0 } * b.len() as f64;
        }
        let val_loss = loss_sum / n.max(1) as f64;
        let score = match self.task {
            Task::Classify { .. } => results.iter().filter(|r| r.3).count() as f64 / n as f64,
            Task::Regress => {
                let mean = results.iter().map(|r| r.4 as f64).sum::<f64>() / n as f64;
                let ss_tot: f64 = results.iter().map(|r| (r.4 as f64 - mean).powi(2)).sum();
                let ss_res: f64 = results
                    .iter()
                    .map(|r| (r.4 as f64 - r.2 as f64).powi(2))
                    .sum();
                1.0 - ss_res / (ss_tot + 1e-8)
            }
        };
        (val_loss, score)
    }

    /// One optimizer step on the samples `batch` (indices into `data`); returns the batch loss.
    fn step(
        &self,
        p: &mut Params,
        st: &mut State,
        data: &Samples,
        batch: &[usize],
        lr: f64,
    ) -> f64 {
        let d = p.dim;
        let total_w: f32 = batch
            .iter()
            .map(|&i| sample_weight(self.task, data.targets[i]))
            .sum();
        let scale = |w: f32| match self.task {
            Task::Classify { .. } => w / total_w,
            Task::Regress => 1.0 / batch.len() as f32,
        };
        let chunk = parts(batch.len(), self.threads);
        let mut d_raw = vec![0f32; batch.len() * d];
        // Forward and backward per sample, split by samples.
        let (mut head, losses, dw): (HeadGrads, f64, Vec<(u32, f32)>) = {
            let params: &Params = p;
            std::thread::scope(|s| {
                let handles: Vec<_> = batch
                    .chunks(chunk)
                    .zip(d_raw.chunks_mut(chunk * d))
                    .map(|(part, out)| {
                        s.spawn(move || {
                            let mut grads = HeadGrads::zeros(&params.layers);
                            let mut t = Trace::default();
                            let mut g = Vec::new();
                            let mut loss_sum = 0.0;
                            let mut dw = Vec::new();
                            for (&i, d_raw) in part.iter().zip(out.chunks_exact_mut(d)) {
                                let ids = &data.ids[i];
                                forward(params, ids, &mut t);
                                let y = data.targets[i];
                                let (l, _) = loss(self.task, &t.out, y, &mut g);
                                let w = sample_weight(self.task, y);
                                loss_sum += l * w as f64;
                                let k = scale(w);
                                g.iter_mut().for_each(|v| *v *= k);
                                backward(params, &mut t, g.clone(), &mut grads, d_raw);
                                if params.token_weights.is_some() && !ids.is_empty() {
                                    let n = ids.len() as f32;
                                    for &id in ids {
                                        let row = &params.embeddings[params.row(id) * d..][..d];
                                        let dot: f32 =
                                            row.iter().zip(&*d_raw).map(|(a, b)| a * b).sum();
                                        dw.push((id, dot / n));
                                    }
                                }
                            }
                            (grads, loss_sum, dw)
                        })
                    })
                    .collect();
                let mut all = HeadGrads::zeros(&params.layers);
                let mut losses = 0.0;
                let mut dw = Vec::new();
                for h in handles {
                    let (g, l, w) = h.join().expect("training threads do not panic");
                    all.add(&g);
                    losses += l;
                    dw.extend(w);
                }
                (all, losses, dw)
            })
        };
        let batch_loss = match self.task {
            Task::Classify { .. } => losses / total_w as f64,
            Task::Regress => losses / batch.len() as f64,
        };

        // Scatter into the embedding gradient and step Adam, split by row ranges.
        st.step += 1;
        let adam = AdamStep::new(lr, st.step);
        let rows = p.rows();
        let per = parts(rows, self.threads);
        let Params {
            embeddings,
            mapping,
            token_weights,
            layers,
            ..
        } = p;
        let row_of = |id: u32| {
            mapping
                .as_ref()
                .map_or(id as usize, |m| m[id as usize] as usize)
        };
        let weight_of = |id: u32| token_weights.as_ref().map_or(1.0, |w| w[id as usize]);
        std::thread::scope(|s| {
            for ((((emb, g), m), v), (lo, live)) in embeddings
                .chunks_mut(per * d)
                .zip(st.g_emb.chunks_mut(per * d))
                .zip(st.m_emb.chunks_mut(per * d))
                .zip(st.v_emb.chunks_mut(per * d))
                .zip((0..rows).step_by(per).zip(st.live.chunks_mut(per)))
            {
                let d_raw = &d_raw;
                let row_of = &row_of;
                let weight_of = &weight_of;
                s.spawn(move || {
                    let hi = lo + live.len();
                    for (b, &i) in batch.iter().enumerate() {
                        let ids = &data.ids[i];
                        if ids.is_empty() {
                            continue;
                        }
                        let n = ids.len() as f32;
                        let gx = &d_raw[b * d..][..d];
                        for &id in ids {
                            let r = row_of(id);
                            if r < lo || r >= hi {
                                continue;
                            }
                            live[r - lo] = true;
                            let k = weight_of(id) / n;
                            let gr = &mut g[(r - lo) * d..][..d];
                            gr.iter_mut().zip(gx).for_each(|(a, &x)| *a += x * k);
                        }
                    }
                    for (r, &is_live) in live.iter().enumerate() {
                        if is_live {
                            let at = r * d..(r + 1) * d;
                            adam.apply(
                                &mut emb[at.clone()],
                                &g[at.clone()],
                                &mut m[at.clone()],
                                &mut v[at.clone()],
                            );
                            g[at].iter_mut().for_each(|x| *x = 0.0);
                        }
                    }
                });
            }
        });
        if let Some(w) = token_weights {
            for (id, v) in dw {
                st.g_w[id as usize] += v;
            }
            adam.apply(w, &st.g_w, &mut st.m_w, &mut st.v_w);
            st.g_w.iter_mut().for_each(|x| *x = 0.0);
        }
        for ((layer, g), (m, v)) in layers
            .iter_mut()
            .zip(&mut head.layers)
            .zip(st.m_head.iter_mut().zip(&mut st.v_head))
        {
            adam.apply(&mut layer.weight, &g.weight, &mut m.weight, &mut v.weight);
            adam.apply(&mut layer.bias, &g.bias, &mut m.bias, &mut v.bias);
        }
        batch_loss
    }
}

/// Train `params` (a base model's embeddings and a fresh head) on `train`, checking `val`.
/// `on_check` sees every validation check as it happens.
pub fn fit(
    mut params: Params,
    task: &Task,
    train: &Samples,
    val: &Samples,
    opts: &FitOptions,
    on_check: &mut dyn FnMut(&Check),
) -> Fitted {
    for v in &mut params.embeddings {
        if !v.is_finite() {
            *v = 0.0;
        }
    }
    let trainer = Trainer {
        task,
        threads: opts.threads.max(1),
    };
    let batch = opts
        .batch_size
        .unwrap_or_else(|| auto_batch_size(train.len()));
    let interval = check_interval(train.len(), batch);
    let zeros = |l: &[Dense]| HeadGrads::zeros(l).layers;
    let mut st = State {
        g_emb: vec![0.0; params.embeddings.len()],
        m_emb: vec![0.0; params.embeddings.len()],
        v_emb: vec![0.0; params.embeddings.len()],
        live: vec![false; params.rows()],
        g_w: vec![0.0; params.token_weights.as_ref().map_or(0, Vec::len)],
        m_w: vec![0.0; params.token_weights.as_ref().map_or(0, Vec::len)],
        v_w: vec![0.0; params.token_weights.as_ref().map_or(0, Vec::len)],
        m_head: zeros(&params.layers),
        v_head: zeros(&params.layers),
        step: 0,
    };
    let maximize = matches!(task, Task::Classify { .. });
    let mut best_params = params.clone();
    let mut best_metric = if maximize {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    // model2vec's EarlyStopper: improvements under 0.001 do not reset the patience.
    let mut stopper_best = best_metric;
    let mut wait = 0usize;
    let mut plateau = Plateau {
        best: f64::INFINITY,
        bad: 0,
    };
    let mut lr = opts.learning_rate;
    let mut latest_val_loss: Option<f64> = None;
    let mut checks: Vec<Check> = Vec::new();
    let mut best = 0;
    let mut rng = fastrand::Rng::with_seed(opts.seed);
    let max_epochs = opts.max_epochs.unwrap_or(9999);
    let mut epoch = 0;
    let mut step = 0;
    let mut since = Instant::now();
    let mut seen = 0usize;
    let mut loss_sum = 0.0;
    let mut loss_n = 0usize;

    // Returns whether training should stop.
    let mut check = |params: &Params,
                     epoch: usize,
                     step: usize,
                     lr: f64,
                     train_loss: f64,
                     seconds: f64,
                     seen: usize,
                     latest: &mut Option<f64>|
     -> bool {
        let (val_loss, score) = trainer.validate(params, val, batch);
        *latest = Some(val_loss);
        let metric = if maximize { score } else { val_loss };
        let improved = if maximize {
            metric > best_metric
        } else {
            metric < best_metric
        };
        if improved {
            best_metric = metric;
            best_params.clone_from(params);
            best = checks.len();
        }
        let c = Check {
            epoch,
            step,
            train_loss,
            val_loss,
            val_score: score,
            learning_rate: lr,
            improved,
            seconds,
            samples_per_second: seen as f64 / seconds.max(1e-9),
        };
        on_check(&c);
        checks.push(c);
        let Some(patience) = opts.patience else {
            return false;
        };
        let better = if maximize {
            metric > stopper_best + 0.001
        } else {
            metric < stopper_best - 0.001
        };
        if better {
            stopper_best = metric;
            wait = 0;
        } else {
            wait += 1;
        }
        wait >= patience
    };
    let may_stop = |epoch: usize| opts.min_epochs.is_none_or(|m| epoch >= m);

    let mut order: Vec<usize> = (0..train.len()).collect();
    'train: loop {
        rng.shuffle(&mut order);
        for b in order.chunks(batch) {
            let l = trainer.step(&mut params, &mut st, train, b, lr);
            loss_sum += l;
            loss_n += 1;
            seen += b.len();
            step += 1;
            if let Some(every) = interval
                && step % every == 0
            {
                let stop = check(
                    &params,
                    epoch,
                    step,
                    lr,
                    loss_sum / loss_n as f64,
                    since.elapsed().as_secs_f64(),
                    seen,
                    &mut latest_val_loss,
                );
                (since, seen, loss_sum, loss_n) = (Instant::now(), 0, 0.0, 0);
                if stop && may_stop(epoch) {
                    break 'train;
                }
            }
        }
        epoch += 1;
        if interval.is_none() {
            let stop = check(
                &params,
                epoch,
                step,
                lr,
                loss_sum / loss_n.max(1) as f64,
                since.elapsed().as_secs_f64(),
                seen,
                &mut latest_val_loss,
            );
            (since, seen, loss_sum, loss_n) = (Instant::now(), 0, 0.0, 0);
            if stop && may_stop(epoch) {
                break;
            }
        }
        if let Some(v) = latest_val_loss {
            plateau.step(v, &mut lr);
        }
        if epoch >= max_epochs {
            break;
        }
    }
    Fitted {
        params: best_params,
        checks,
        best,
        batch_size: batch,
        epochs: epoch,
    }
}

/// Validation rows split off the training rows when there is no `valid/` split: 10% (at most
/// 10,000, at least one, leaving at least one), stratified by class when every class has two
/// rows or more, as model2vec splits; the draw is seeded. Returns (train, validation) indices,
/// each sorted.
pub fn split_validation(targets: &[f32], stratify: bool, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let n = targets.len();
    // model2vec: min(max(1, n_test), n - 1), so one row still goes to validation.
    let n_test = ((n as f64 * 0.1).round() as usize)
        .clamp(1, 10_000)
        .min(n.saturating_sub(1));
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut strata: Vec<Vec<usize>> = Vec::new();
    if stratify {
        let classes = targets
            .iter()
            .map(|&t| t as usize)
            .max()
            .map_or(0, |m| m + 1);
        strata = vec![Vec::new(); classes];
        for (i, &t) in targets.iter().enumerate() {
            strata[t as usize].push(i);
        }
        strata.retain(|s| !s.is_empty());
        if strata.iter().any(|s| s.len() < 2) || strata.len() > n_test {
            strata.clear();
        }
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    if strata.is_empty() {
        let mut all: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut all);
        test.extend_from_slice(&all[..n_test]);
        train.extend_from_slice(&all[n_test..]);
    } else {
        // Per-class quotas rounded, each class keeping a row on both sides, then nudged to the
        // total as model2vec does.
        let sizes: Vec<f64> = strata.iter().map(|s| s.len() as f64).collect();
        let total: f64 = sizes.iter().sum();
        let quotas: Vec<f64> = sizes.iter().map(|s| s * n_test as f64 / total).collect();
        let mut counts: Vec<usize> = quotas
            .iter()
            .zip(&sizes)
            .map(|(q, &s)| (q.round_ties_even() as usize).clamp(1, s as usize - 1))
            .collect();
        loop {
            let sum: usize = counts.iter().sum();
            if sum == n_test {
                break;
            }
            let over = sum > n_test;
            let pick = (0..counts.len())
                .filter(|&k| {
                    if over {
                        counts[k] > 1
                    } else {
                        counts[k] < sizes[k] as usize - 1
                    }
                })
                .max_by(|&a, &b| {
                    let key = |k: usize| {
                        let d = counts[k] as f64 - quotas[k];
                        if over { d } else { -d }
                    };
                    key(a).total_cmp(&key(b)).then(b.cmp(&a))
                });
            let Some(k) = pick else { break };
            if over {
                counts[k] -= 1;
            } else {
                counts[k] += 1;
            }
        }
        for (members, &k) in strata.iter_mut().zip(&counts) {
            rng.shuffle(members);
            test.extend_from_slice(&members[..k]);
            train.extend_from_slice(&members[k..]);
        }
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(normalize: bool, weights: bool) -> Params {
        let mut rng = fastrand::Rng::with_seed(7);
        let dim = 5;
        let rows = 9;
        Params {
            dim,
            embeddings: (0..rows * dim).map(|_| rng.f32() * 2.0 - 1.0).collect(),
            token_weights: weights.then(|| (0..rows).map(|_| rng.f32() + 0.5).collect()),
            mapping: None,
            layers: biased(init_head(dim, 7, 1, 3, 3)),
            normalize,
        }
    }

    /// Non-zero biases: an empty text's hidden units then sit off ReLU's kink.
    fn biased(mut layers: Vec<Dense>) -> Vec<Dense> {
        let mut rng = fastrand::Rng::with_seed(11);
        for l in &mut layers {
            l.bias
                .iter_mut()
                .for_each(|b| *b = (0.1 + 0.4 * rng.f32()) * if rng.bool() { 1.0 } else { -1.0 });
        }
        layers
    }

    fn batch_loss(p: &Params, task: &Task, data: &Samples) -> f64 {
        let mut t = Trace::default();
        let mut g = Vec::new();
        let (mut l, mut w) = (0.0, 0.0);
        for (ids, &y) in data.ids.iter().zip(&data.targets) {
            forward(p, ids, &mut t);
            let sw = sample_weight(task, y) as f64;
            l += loss(task, &t.out, y, &mut g).0 * sw;
            w += sw;
        }
        match task {
            Task::Classify { .. } => l / w,
            Task::Regress => l / data.len() as f64,
        }
    }

    /// The analytic gradient (what one SGD-like step moves) against central differences of
    /// the loss, for every kind of parameter: embeddings, token weights, both layers.
    #[test]
    fn gradients_match_finite_differences() {
        for (task, normalize, weights) in [
            (
                Task::Classify {
                    classes: 3,
                    class_weight: Some(vec![1.0, 2.0, 0.5]),
                },
                true,
                false,
            ),
            (
                Task::Classify {
                    classes: 3,
                    class_weight: None,
                },
                false,
                true,
            ),
            (Task::Regress, true, true),
        ] {
            let mut p = tiny(normalize, weights);
            if matches!(task, Task::Regress) {
                p.layers = biased(init_head(5, 7, 1, 1, 3));
            }
            let data = Samples {
                ids: vec![vec![0, 1, 2, 1], vec![3, 4], vec![5, 6, 7, 8, 0], vec![]],
                targets: match task {
                    Task::Regress => vec![0.3, -1.0, 2.0, 0.5],
                    _ => vec![0.0, 2.0, 1.0, 2.0],
                },
            };
            let batch: Vec<usize> = (0..data.len()).collect();
            let grads = analytic(&p, &task, &data, &batch);
            // Small enough to stay off ReLU's kink for these inputs (the nearest |z| is 6e-4).
            let h = 2e-4f32;
            let mut checked = 0;
            let mut probe = |get: &dyn Fn(&mut Params) -> &mut f32, g: f32| {
                let mut a = p.clone();
                *get(&mut a) += h;
                let mut b = p.clone();
                *get(&mut b) -= h;
                let fd = (batch_loss(&a, &task, &data) - batch_loss(&b, &task, &data))
                    / (2.0 * h as f64);
                assert!(
                    (fd - g as f64).abs() <= 2e-3 * (1.0 + fd.abs()),
                    "probe {checked}: finite difference {fd}, gradient {g}"
                );
                checked += 1;
            };
            for i in [0, 3, 7, 12, 20, 33, 44] {
                probe(&|p: &mut Params| &mut p.embeddings[i], grads.emb[i]);
            }
            if weights {
                for i in 0..9 {
                    probe(
                        &|p: &mut Params| &mut p.token_weights.as_mut().unwrap()[i],
                        grads.w[i],
                    );
                }
            }
            for (k, layer) in grads.head.layers.iter().enumerate() {
                for i in (0..layer.weight.len()).step_by(5) {
                    probe(
                        &|p: &mut Params| &mut p.layers[k].weight[i],
                        layer.weight[i],
                    );
                }
                for i in 0..layer.bias.len() {
                    probe(&|p: &mut Params| &mut p.layers[k].bias[i], layer.bias[i]);
                }
            }
            assert!(checked > 20);
        }
    }

    struct Grads {
        emb: Vec<f32>,
        w: Vec<f32>,
        head: HeadGrads,
    }

    /// The gradients `Trainer::step` applies, computed the same way but returned.
    fn analytic(p: &Params, task: &Task, data: &Samples, batch: &[usize]) -> Grads {
        let d = p.dim;
        let total_w: f32 = batch
            .iter()
            .map(|&i| sample_weight(task, data.targets[i]))
            .sum();
        let mut head = HeadGrads::zeros(&p.layers);
        let mut emb = vec![0f32; p.embeddings.len()];
        let mut w = vec![0f32; p.token_weights.as_ref().map_or(0, Vec::len)];
        let mut t = Trace::default();
        let mut g = Vec::new();
        for &i in batch {
            let ids = &data.ids[i];
            forward(p, ids, &mut t);
            let y = data.targets[i];
            loss(task, &t.out, y, &mut g);
            let k = match task {
                Task::Classify { .. } => sample_weight(task, y) / total_w,
                Task::Regress => 1.0 / batch.len() as f32,
            };
            g.iter_mut().for_each(|v| *v *= k);
            let mut d_raw = vec![0f32; d];
            backward(p, &mut t, g.clone(), &mut head, &mut d_raw);
            let n = ids.len() as f32;
            for &id in ids {
                let r = p.row(id);
                for j in 0..d {
                    emb[r * d + j] += d_raw[j] * p.token_weight(id) / n;
                }
                if !w.is_empty() {
                    let dot: f32 = (0..d).map(|j| p.embeddings[r * d + j] * d_raw[j]).sum();
                    w[id as usize] += dot / n;
                }
            }
        }
        Grads { emb, w, head }
    }

    /// Training steps split over threads give the same parameters as one thread.
    #[test]
    fn threads_do_not_change_the_result() {
        let task = Task::Classify {
            classes: 3,
            class_weight: None,
        };
        let data = Samples {
            ids: (0..40u32)
                .map(|i| (0..(i % 7 + 1)).map(|k| (i + k) % 9).collect())
                .collect(),
            targets: (0..40).map(|i| (i % 3) as f32).collect(),
        };
        let opts = |threads| FitOptions {
            max_epochs: Some(3),
            batch_size: Some(8),
            threads,
            ..FitOptions::default()
        };
        let run = |threads| {
            fit(
                tiny(true, true),
                &task,
                &data,
                &data,
                &opts(threads),
                &mut |_| {},
            )
            .params
        };
        let (one, three) = (run(1), run(3));
        for (a, b) in one.embeddings.iter().zip(&three.embeddings) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        for (a, b) in one.layers[0].weight.iter().zip(&three.layers[0].weight) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn learns_a_separable_task_and_keeps_the_best_check() {
        let task = Task::Classify {
            classes: 2,
            class_weight: None,
        };
        // Class 0 texts use tokens 0..4, class 1 tokens 4..8.
        let mut rng = fastrand::Rng::with_seed(1);
        let mk = |rng: &mut fastrand::Rng, n: usize| {
            let mut s = Samples::default();
            for i in 0..n {
                let c = (i % 2) as u32;
                s.ids.push((0..5).map(|_| c * 4 + rng.u32(0..4)).collect());
                s.targets.push(c as f32);
            }
            s
        };
        let (train, val) = (mk(&mut rng, 200), mk(&mut rng, 40));
        let fitted = fit(
            tiny(true, false),
            &task,
            &train,
            &val,
            &FitOptions {
                max_epochs: Some(60),
                learning_rate: 1e-2,
                ..FitOptions::default()
            },
            &mut |_| {},
        );
        let best = &fitted.checks[fitted.best];
        assert_eq!(best.val_score, 1.0);
        assert!(fitted.checks.iter().all(|c| c.val_score <= best.val_score));
        // Early stopping: five checks without an improvement of 0.001 after the best.
        assert!(fitted.epochs < 60, "{} epochs", fitted.epochs);
    }

    #[test]
    fn validation_split_is_stratified_and_seeded() {
        let targets: Vec<f32> = (0..1000)
            .map(|i| if i % 10 == 0 { 1.0 } else { 0.0 })
            .collect();
        let (train, test) = split_validation(&targets, true, 42);
        assert_eq!((train.len(), test.len()), (900, 100));
        let ones = test.iter().filter(|&&i| targets[i] == 1.0).count();
        assert_eq!(ones, 10);
        assert_eq!(split_validation(&targets, true, 42).1, test);
        assert_ne!(split_validation(&targets, true, 43).1, test);
        // A class with one row: no stratification.
        let mut t = targets.clone();
        t[0] = 2.0;
        assert_eq!(split_validation(&t, true, 42).1.len(), 100);
        assert_eq!(auto_batch_size(1800), 32);
        assert_eq!(auto_batch_size(10_000), 320);
        assert_eq!(auto_batch_size(10_000_000), 512);
    }
}

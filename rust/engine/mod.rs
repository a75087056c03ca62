//! The numerical core: many independent mini-batch SGD runs of one network, fused.
//! No Python in here; `crate::bindings` wraps it.
//!
//! Models are split into groups. A group's layer-1 weights are one (models·h1 × stride)
//! matrix trained against one gathered copy of each mini-batch; groups run in parallel
//! (rayon). Each model's arithmetic is the same whatever group it lands in, so results
//! never depend on grouping or thread count.

pub mod error;
pub mod float;
pub mod hessian;
pub mod kernels;
pub mod network;

use std::borrow::Cow;
use std::ops::Range;

use rayon::prelude::*;

use error::ensure;
pub use error::{InvalidArgument, Result};
pub use float::Float;
use kernels::padded_len;
pub use kernels::{Isa, Kernels};
pub use network::Cost;
use network::{Scratch, Tail};

/// Layer-1 weights per thread that should stay in its share of L2 cache.
const L2_BUDGET_BYTES: usize = 512 * 1024;
/// Samples per parallel work item when evaluating a data set: a block (~300 KB of f32 MNIST)
/// stays in L2 while every row of the group's models passes over it.
const EVAL_BLOCK: usize = 96;

/// A data set in the engine's layout ([`padded_rows`]), borrowed for one call, and the labels
/// the engine keeps.
struct DataMatrix<'a, T> {
    x: &'a [T],
    y: &'a [u32],
}

impl<T> DataMatrix<'_, T> {
    fn len(&self) -> usize {
        self.y.len()
    }
}

/// `x` (n × n_in, row-major) in the engine's layout: borrowed as it is when its rows already
/// have the kernels' stride (as MNIST's 784 do), else copied with zero padding.
pub fn padded_rows<T: Float>(x: &[T], n_in: usize) -> Cow<'_, [T]> {
    let stride = padded_len(n_in);
    if stride == n_in {
        return Cow::Borrowed(x);
    }
    let mut padded = vec![T::ZERO; x.len() / n_in.max(1) * stride];
    for (row, src) in padded.chunks_exact_mut(stride).zip(x.chunks_exact(n_in)) {
        row[..n_in].copy_from_slice(src);
    }
    Cow::Owned(padded)
}

/// The architecture and training constants shared by every model of an engine.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Layer sizes, input first, e.g. `[784, 30, 10]`.
    pub sizes: Vec<usize>,
    pub cost: Cost,
    /// Mini-batch size m. The last batch of an epoch holds the remaining `n mod m` samples
    /// and is a step of its own, scaled by its own size (as network2.py does).
    pub batch_size: usize,
}

/// Initial parameters of all K models: `weights[l]` is (K × out × in) row-major, `biases[l]`
/// is (K × out), for each layer l.
pub struct InitialParams<'a, T> {
    pub weights: Vec<&'a [T]>,
    pub biases: Vec<&'a [T]>,
}

/// A validated mini-batch order for one epoch (sample indices into the training set).
pub struct EpochOrder(Vec<u32>);

/// Per-group parameters and workspace.
struct Group<T> {
    first: usize,
    count: usize,
    /// Layer 1, padded rows: count × h1 × stride.
    w1: Vec<T>,
    b1: Vec<T>,
    /// Layers 2..: per layer, count × out × in.
    weights: Vec<Vec<T>>,
    biases: Vec<Vec<T>>,
    /// Layer-1 pre-activations (without bias) of the current batch: count × h1 × m.
    z1: Vec<T>,
    x_cur: Vec<T>,
    x_next: Vec<T>,
    labels: Vec<u32>,
    coef: Vec<T>,
    scratch: Scratch<T>,
}

/// What every group reads while it trains.
struct StepContext<'a, T> {
    spec: &'a Spec,
    stride: usize,
    isa: Isa,
    data: DataMatrix<'a, T>,
    order: &'a [u32],
    eta: &'a [f64],
    lmbda: &'a [f64],
    active: &'a [bool],
}

impl<T: Kernels> Group<T> {
    fn layer_len(spec: &Spec, l: usize) -> usize {
        spec.sizes[l + 1] * spec.sizes[l]
    }

    #[inline(always)]
    fn gather(x: &mut [T], data: &DataMatrix<'_, T>, idx: &[u32], stride: usize) {
        for (k, &i) in idx.iter().enumerate() {
            let i = i as usize;
            x[k * stride..(k + 1) * stride].copy_from_slice(&data.x[i * stride..(i + 1) * stride]);
        }
    }

    /// Layers 2.. of model `g` (group-local index).
    fn tail<'a>(
        weights: &'a [Vec<T>],
        biases: &'a [Vec<T>],
        spec: &'a Spec,
        g: usize,
    ) -> Tail<'a, T> {
        Tail {
            sizes: &spec.sizes,
            weights,
            biases,
            g,
        }
    }

    /// Train on batches `batches` of `ctx.order`, with the code compiled for `ctx.isa`.
    fn train(&mut self, ctx: &StepContext<'_, T>, batches: Range<usize>) {
        match ctx.isa {
            // SAFETY: `Isa::detect` returned this variant only after `is_x86_feature_detected!`
            // confirmed every feature these functions enable.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { per_isa::train_avx512(self, ctx, batches) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { per_isa::train_avx2(self, ctx, batches) },
            _ => self.train_impl(ctx, batches),
        }
    }

    #[inline(always)]
    fn train_impl(&mut self, ctx: &StepContext<'_, T>, batches: Range<usize>) {
        let (spec, stride, isa) = (ctx.spec, ctx.stride, ctx.isa);
        let m = spec.batch_size;
        let h1 = spec.sizes[1];
        let n_train = ctx.data.len() as f64;
        let batch = |b: usize| &ctx.order[b * m..((b + 1) * m).min(ctx.order.len())];
        if batches.is_empty() {
            return;
        }
        let first_batch = batch(batches.start);
        Self::gather(&mut self.x_cur, &ctx.data, first_batch, stride);
        for g in 0..self.count {
            if ctx.active[self.first + g] {
                let mb = first_batch.len();
                T::dot(
                    isa,
                    &self.w1[g * h1 * stride..(g + 1) * h1 * stride],
                    stride,
                    &self.x_cur[..mb * stride],
                    &mut self.z1[g * h1 * m..g * h1 * m + h1 * mb],
                );
            }
        }
        for b in batches.clone() {
            let idx = batch(b);
            let mb = idx.len();
            self.labels.clear();
            self.labels
                .extend(idx.iter().map(|&i| ctx.data.y[i as usize]));
            let mb_next = if b + 1 < batches.end {
                let next = batch(b + 1);
                Self::gather(&mut self.x_next, &ctx.data, next, stride);
                next.len()
            } else {
                0
            };
            for g in 0..self.count {
                let model = self.first + g;
                if !ctx.active[model] {
                    continue;
                }
                let (eta, lmbda) = (ctx.eta[model], ctx.lmbda[model]);
                let decay = T::from_f64(1.0 - eta * (lmbda / n_train));
                let c = T::from_f64(eta / mb as f64);
                let z1 = g * h1 * m..g * h1 * m + h1 * mb;
                {
                    let tail = Self::tail(&self.weights, &self.biases, spec, g);
                    let b1 = &self.b1[g * h1..(g + 1) * h1];
                    network::forward(&tail, b1, &self.z1[z1.clone()], mb, &mut self.scratch);
                }
                network::backward_and_update(
                    spec.cost,
                    &spec.sizes,
                    &mut self.weights,
                    &mut self.biases,
                    g,
                    &mut self.b1[g * h1..(g + 1) * h1],
                    &self.labels,
                    mb,
                    decay,
                    c,
                    &mut self.scratch,
                    &mut self.coef,
                );
                T::update_then_dot(
                    isa,
                    &mut self.w1[g * h1 * stride..(g + 1) * h1 * stride],
                    stride,
                    decay,
                    &self.coef[..h1 * mb],
                    &self.x_cur[..mb * stride],
                    mb,
                    &self.x_next[..mb_next * stride],
                    &mut self.z1[g * h1 * m..g * h1 * m + h1 * mb_next],
                );
            }
            std::mem::swap(&mut self.x_cur, &mut self.x_next);
        }
    }

    /// Cost sums and correct counts of this group's models on samples `block` of `data`,
    /// with the code compiled for `isa`.
    fn evaluate(
        &self,
        spec: &Spec,
        stride: usize,
        isa: Isa,
        data: &DataMatrix<'_, T>,
        block: Range<usize>,
    ) -> Vec<(f64, u64)> {
        match isa {
            // SAFETY: see `Group::train`.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { per_isa::evaluate_avx512(self, spec, stride, data, block) },
            // SAFETY: see `Group::train`.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { per_isa::evaluate_avx2(self, spec, stride, data, block) },
            _ => self.evaluate_impl(spec, stride, isa, data, block),
        }
    }

    #[inline(always)]
    fn evaluate_impl(
        &self,
        spec: &Spec,
        stride: usize,
        isa: Isa,
        data: &DataMatrix<'_, T>,
        block: Range<usize>,
    ) -> Vec<(f64, u64)> {
        let h1 = spec.sizes[1];
        let n_out = spec.sizes[spec.sizes.len() - 1];
        let nb = block.len();
        let mut scratch = Scratch::new(&spec.sizes, nb);
        let mut z1 = vec![T::ZERO; h1 * nb];
        let x = &data.x[block.start * stride..block.end * stride];
        let labels = &data.y[block];
        // A plain loop, not `map`: a closure would be compiled outside the caller's
        // instruction set (`per_isa`).
        let mut sums = Vec::with_capacity(self.count);
        for g in 0..self.count {
            T::dot(
                isa,
                &self.w1[g * h1 * stride..(g + 1) * h1 * stride],
                stride,
                x,
                &mut z1,
            );
            let tail = Self::tail(&self.weights, &self.biases, spec, g);
            network::forward(&tail, &self.b1[g * h1..(g + 1) * h1], &z1, nb, &mut scratch);
            let (mut cost, mut correct) = (0.0, 0);
            network::score(
                spec.cost,
                &mut scratch,
                n_out,
                labels,
                nb,
                &mut cost,
                &mut correct,
            );
            sums.push((cost, correct));
        }
        sums
    }

    /// Every parameter of model `g`, layer by layer, weights then biases (padding skipped).
    fn for_each_param(&self, spec: &Spec, stride: usize, g: usize, mut f: impl FnMut(bool, T)) {
        let (n_in, h1) = (spec.sizes[0], spec.sizes[1]);
        for r in 0..h1 {
            let row = (g * h1 + r) * stride;
            self.w1[row..row + n_in].iter().for_each(|&w| f(true, w));
        }
        self.b1[g * h1..(g + 1) * h1]
            .iter()
            .for_each(|&b| f(false, b));
        for l in 1..spec.sizes.len() - 1 {
            let len = Self::layer_len(spec, l);
            self.weights[l - 1][g * len..(g + 1) * len]
                .iter()
                .for_each(|&w| f(true, w));
            let out = spec.sizes[l + 1];
            self.biases[l - 1][g * out..(g + 1) * out]
                .iter()
                .for_each(|&b| f(false, b));
        }
    }
}

/// [`Group::train`] and [`Group::evaluate`] compiled once per instruction set, so that the
/// small layers, sigmoids and costs inlined into them are vectorised for the CPU (the layer-1
/// kernels dispatch on their own). Rust never contracts `a·b + c` into an FMA and never
/// reassociates, so every path computes the same numbers.
#[cfg(target_arch = "x86_64")]
mod per_isa {
    use super::*;

    macro_rules! compiled_for {
        ($features:literal, $isa:expr, $train:ident, $evaluate:ident) => {
            #[target_feature(enable = $features)]
            pub fn $train<T: Kernels>(
                group: &mut Group<T>,
                ctx: &StepContext<'_, T>,
                batches: Range<usize>,
            ) {
                group.train_impl(ctx, batches)
            }

            #[target_feature(enable = $features)]
            pub fn $evaluate<T: Kernels>(
                group: &Group<T>,
                spec: &Spec,
                stride: usize,
                data: &DataMatrix<'_, T>,
                block: Range<usize>,
            ) -> Vec<(f64, u64)> {
                group.evaluate_impl(spec, stride, $isa, data, block)
            }
        };
    }

    compiled_for!(
        "avx512f,avx512vl,avx2,fma",
        Isa::Avx512,
        train_avx512,
        evaluate_avx512
    );
    compiled_for!("avx2,fma", Isa::Avx2, train_avx2, evaluate_avx2);
}

/// Split `n_models` into contiguous groups. With `group_size` given, groups of that size;
/// otherwise as large as the L2 budget allows, and as many groups as a multiple of
/// `threads` so every thread gets an equal share.
pub fn plan_groups(
    n_models: usize,
    bytes_per_model: usize,
    threads: usize,
    group_size: Option<usize>,
) -> Vec<Range<usize>> {
    let n_groups = match group_size {
        Some(size) => n_models.div_ceil(size.max(1)),
        None => {
            let max_size = (L2_BUDGET_BYTES / bytes_per_model.max(1)).max(1);
            let threads = threads.max(1);
            let n = n_models.div_ceil(max_size);
            (n.div_ceil(threads) * threads).min(n_models)
        }
    };
    let mut start = 0;
    (0..n_groups)
        .map(|i| {
            let end = match group_size {
                Some(size) => (start + size).min(n_models),
                // Sizes differing by one are spread evenly (not all large ones first), so
                // that any contiguous half of the groups, as rayon splits them, holds half
                // the models.
                None => (i + 1) * n_models / n_groups,
            };
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

/// K models of one architecture, trained together on one training set.
pub struct Engine<T> {
    spec: Spec,
    stride: usize,
    isa: Isa,
    n_models: usize,
    groups: Vec<Group<T>>,
    eta: Vec<f64>,
    lmbda: Vec<f64>,
    active: Vec<bool>,
    /// Labels of each data set: `labels[0]` is the training set's, others are added for
    /// evaluation. The rows stay with the caller, who lends them to each call.
    labels: Vec<Vec<u32>>,
}

fn check_dataset(dataset: usize, n_datasets: usize) -> Result<()> {
    ensure(dataset < n_datasets, "dataset", || {
        format!("no data set {dataset}; {n_datasets} are stored")
    })
}

fn check_eta(eta: &[f64], n_models: usize) -> Result<()> {
    ensure(eta.len() == n_models, "eta", || {
        format!(
            "expected {n_models} values (one per model), got {}",
            eta.len()
        )
    })?;
    ensure(eta.iter().all(|&e| e.is_finite() && e > 0.0), "eta", || {
        "every learning rate must be finite and > 0".into()
    })
}

fn check_lmbda(lmbda: &[f64], n_models: usize) -> Result<()> {
    ensure(lmbda.len() == n_models, "lmbda", || {
        format!(
            "expected {n_models} values (one per model), got {}",
            lmbda.len()
        )
    })?;
    ensure(
        lmbda.iter().all(|&l| l.is_finite() && l >= 0.0),
        "lmbda",
        || "every regularisation parameter must be finite and >= 0".into(),
    )
}

impl<T: Kernels> Engine<T> {
    /// Build an engine for the training set with rows `x` in the engine's layout
    /// ([`padded_rows`]) and class labels `y`. The engine keeps the labels; every training
    /// call borrows the same rows again.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        spec: Spec,
        params: InitialParams<'_, T>,
        eta: Vec<f64>,
        lmbda: Vec<f64>,
        x: &[T],
        y: &[i64],
        threads: usize,
        group_size: Option<usize>,
    ) -> Result<Self> {
        let sizes = &spec.sizes;
        ensure(sizes.len() >= 2, "sizes", || {
            format!("need at least 2 layers (input and output), got {sizes:?}")
        })?;
        ensure(sizes.iter().all(|&s| s >= 1), "sizes", || {
            format!("every layer needs at least one unit, got {sizes:?}")
        })?;
        ensure(spec.batch_size >= 1, "batch_size", || "must be >= 1".into())?;
        ensure(group_size != Some(0), "group_size", || {
            "must be >= 1".into()
        })?;
        let n_layers = sizes.len() - 1;
        ensure(
            params.weights.len() == n_layers && params.biases.len() == n_layers,
            "weights",
            || format!("expected {n_layers} weight and bias arrays, one per layer"),
        )?;
        let n_models = params.biases[0].len() / sizes[1];
        ensure(n_models >= 1, "eta", || "need at least one model".into())?;
        for l in 0..n_layers {
            let (n_in, n_out) = (sizes[l], sizes[l + 1]);
            ensure(
                params.weights[l].len() == n_models * n_out * n_in,
                "weights",
                || format!("layer {l}: expected {n_models}×{n_out}×{n_in} values"),
            )?;
            ensure(params.biases[l].len() == n_models * n_out, "biases", || {
                format!("layer {l}: expected {n_models}×{n_out} values")
            })?;
        }
        check_eta(&eta, n_models)?;
        check_lmbda(&lmbda, n_models)?;

        let stride = padded_len(sizes[0]);
        let mut engine = Engine {
            stride,
            isa: Isa::detect(),
            n_models,
            groups: Vec::new(),
            eta,
            lmbda,
            active: vec![true; n_models],
            labels: Vec::new(),
            spec,
        };
        engine.add_dataset(x, y)?;
        let bytes_per_model = engine.spec.sizes[1] * stride * std::mem::size_of::<T>();
        for range in plan_groups(n_models, bytes_per_model, threads, group_size) {
            engine.groups.push(engine.new_group(range, &params));
        }
        Ok(engine)
    }

    fn new_group(&self, models: Range<usize>, params: &InitialParams<'_, T>) -> Group<T> {
        let sizes = &self.spec.sizes;
        let (n_in, h1, m, stride) = (sizes[0], sizes[1], self.spec.batch_size, self.stride);
        let count = models.len();
        let mut w1 = vec![T::ZERO; count * h1 * stride];
        let src = &params.weights[0][models.start * h1 * n_in..models.end * h1 * n_in];
        for (row, src_row) in w1.chunks_exact_mut(stride).zip(src.chunks_exact(n_in)) {
            row[..n_in].copy_from_slice(src_row);
        }
        let slice = |v: &[T], per_model: usize| {
            v[models.start * per_model..models.end * per_model].to_vec()
        };
        let n_layers = sizes.len() - 1;
        Group {
            first: models.start,
            count,
            w1,
            b1: slice(params.biases[0], h1),
            weights: (1..n_layers)
                .map(|l| slice(params.weights[l], sizes[l + 1] * sizes[l]))
                .collect(),
            biases: (1..n_layers)
                .map(|l| slice(params.biases[l], sizes[l + 1]))
                .collect(),
            z1: vec![T::ZERO; count * h1 * m],
            x_cur: vec![T::ZERO; m * stride],
            x_next: vec![T::ZERO; m * stride],
            labels: Vec::with_capacity(m),
            coef: vec![T::ZERO; h1 * m],
            scratch: Scratch::new(sizes, m),
        }
    }

    /// Add a data set: rows `x` in the engine's layout ([`padded_rows`]), labels `y`.
    /// Returns its index; index 0 is the training set given to [`Engine::new`]. The engine
    /// keeps the labels; [`Engine::evaluate`] borrows the same rows again.
    pub fn add_dataset(&mut self, x: &[T], y: &[i64]) -> Result<usize> {
        let (n_in, n_out) = (
            self.spec.sizes[0],
            self.spec.sizes[self.spec.sizes.len() - 1],
        );
        let n = y.len();
        let stride = self.stride;
        ensure(n >= 1, "y", || "need at least one sample".into())?;
        ensure(x.len() == n * stride, "X", || {
            format!(
                "expected {n}×{stride} values (rows of {n_in} features padded to {stride}) \
                 for {n} labels, got {}",
                x.len()
            )
        })?;
        ensure(x.iter().all(|v| v.is_finite()), "X", || {
            "contains NaN or inf".into()
        })?;
        // Nonzero padding would leak into the weights' padding through the update.
        ensure(
            x.chunks_exact(stride)
                .all(|row| row[n_in..].iter().all(|&v| v == T::ZERO)),
            "X",
            || "row padding must be zero".into(),
        )?;
        if let Some(k) = y.iter().position(|&v| v < 0 || v as u64 >= n_out as u64) {
            return Err(InvalidArgument {
                name: "y",
                message: format!("label {} at index {k} is outside [0, {n_out})", y[k]),
            });
        }
        self.labels.push(y.iter().map(|&v| v as u32).collect());
        Ok(self.labels.len() - 1)
    }

    /// Data set `dataset` with its rows `x`, which must be the rows it was added with (the
    /// lengths are checked). Borrows only `labels`, so the groups stay free to train.
    fn data<'a>(
        labels: &'a [Vec<u32>],
        stride: usize,
        dataset: usize,
        x: &'a [T],
    ) -> Result<DataMatrix<'a, T>> {
        check_dataset(dataset, labels.len())?;
        let y = &labels[dataset];
        ensure(x.len() == y.len() * stride, "X", || {
            format!(
                "data set {dataset} has {}×{stride} values, got {}",
                y.len(),
                x.len()
            )
        })?;
        Ok(DataMatrix { x, y })
    }

    /// Whether data set `dataset` exists (before its rows are looked up to lend them).
    pub fn check_dataset(&self, dataset: usize) -> Result<()> {
        check_dataset(dataset, self.labels.len())
    }

    pub fn n_models(&self) -> usize {
        self.n_models
    }

    pub fn sizes(&self) -> &[usize] {
        &self.spec.sizes
    }

    pub fn batch_size(&self) -> usize {
        self.spec.batch_size
    }

    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Samples in the training set.
    pub fn n_train(&self) -> usize {
        self.labels[0].len()
    }

    /// Multiply-adds of one training step of one model per sample (for progress and chunking).
    pub fn flops_per_model_sample(&self) -> f64 {
        let s = &self.spec.sizes;
        6.0 * s.windows(2).map(|w| (w[0] * w[1]) as f64).sum::<f64>()
    }

    /// Check an epoch's order: every index must name a training sample.
    pub fn epoch_order(&self, order: &[i64]) -> Result<EpochOrder> {
        let n = self.n_train();
        ensure(!order.is_empty(), "order", || "is empty".into())?;
        if let Some(k) = order.iter().position(|&i| i < 0 || i as u64 >= n as u64) {
            return Err(InvalidArgument {
                name: "order",
                message: format!("index {} at position {k} is outside [0, {n})", order[k]),
            });
        }
        Ok(EpochOrder(order.iter().map(|&i| i as u32).collect()))
    }

    /// Mini-batches in an epoch of this order.
    pub fn n_batches(&self, order: &EpochOrder) -> usize {
        order.0.len().div_ceil(self.spec.batch_size)
    }

    /// One SGD step per mini-batch in `batches` (indices into the epoch's batches), every
    /// active model, groups in parallel on the current rayon pool. `x`: the training rows.
    pub fn train_batches(
        &mut self,
        x: &[T],
        order: &EpochOrder,
        batches: Range<usize>,
    ) -> Result<()> {
        let batches = batches.start..batches.end.min(self.n_batches(order));
        let data = Self::data(&self.labels, self.stride, 0, x)?;
        let ctx = StepContext {
            spec: &self.spec,
            stride: self.stride,
            isa: self.isa,
            data,
            order: &order.0,
            eta: &self.eta,
            lmbda: &self.lmbda,
            active: &self.active,
        };
        self.groups
            .par_iter_mut()
            .for_each(|group| group.train(&ctx, batches.clone()));
        Ok(())
    }

    /// Per model: the sum over samples of the cost (without the L2 term) and the number
    /// classified correctly, on data set `dataset` with rows `x`.
    pub fn evaluate(&self, dataset: usize, x: &[T]) -> Result<(Vec<f64>, Vec<u64>)> {
        let data = &Self::data(&self.labels, self.stride, dataset, x)?;
        let n_blocks = data.len().div_ceil(EVAL_BLOCK);
        let items: Vec<(usize, usize)> = (0..self.groups.len())
            .flat_map(|g| (0..n_blocks).map(move |b| (g, b)))
            .collect();
        let partial: Vec<Vec<(f64, u64)>> = items
            .par_iter()
            .map(|&(g, b)| {
                let block = b * EVAL_BLOCK..((b + 1) * EVAL_BLOCK).min(data.len());
                self.groups[g].evaluate(&self.spec, self.stride, self.isa, data, block)
            })
            .collect();
        // Sum block by block in a fixed order: the result never depends on the thread count.
        let mut cost = vec![0.0; self.n_models];
        let mut correct = vec![0; self.n_models];
        for (&(g, _), sums) in items.iter().zip(&partial) {
            let first = self.groups[g].first;
            for (i, &(c, k)) in sums.iter().enumerate() {
                cost[first + i] += c;
                correct[first + i] += k;
            }
        }
        Ok((cost, correct))
    }

    fn per_model<R: Send>(&self, f: impl Fn(&Group<T>, usize) -> R + Sync) -> Vec<R> {
        self.groups
            .iter()
            .flat_map(|group| (0..group.count).map(move |g| (group, g)))
            .map(|(group, g)| f(group, g))
            .collect()
    }

    /// Per model: Σ w² over all weights (not biases), in float64.
    pub fn weight_sq_norms(&self) -> Vec<f64> {
        self.per_model(|group, g| {
            let mut total = 0.0;
            group.for_each_param(&self.spec, self.stride, g, |is_weight, v| {
                if is_weight {
                    total += v.to_f64() * v.to_f64();
                }
            });
            total
        })
    }

    /// Per model: whether every weight and bias is finite.
    pub fn finite(&self) -> Vec<bool> {
        self.per_model(|group, g| {
            let mut ok = true;
            group.for_each_param(&self.spec, self.stride, g, |_, v| ok &= v.is_finite());
            ok
        })
    }

    /// All parameters as in [`InitialParams`]: per layer (K × out × in) and (K × out).
    pub fn params(&self) -> (Vec<Vec<T>>, Vec<Vec<T>>) {
        let sizes = &self.spec.sizes;
        let n_layers = sizes.len() - 1;
        let mut weights: Vec<Vec<T>> = (0..n_layers).map(|_| Vec::new()).collect();
        let mut biases: Vec<Vec<T>> = (0..n_layers).map(|_| Vec::new()).collect();
        for group in &self.groups {
            let (n_in, h1) = (sizes[0], sizes[1]);
            for row in group.w1.chunks_exact(self.stride) {
                weights[0].extend_from_slice(&row[..n_in]);
            }
            debug_assert_eq!(weights[0].len() % (h1 * n_in), 0);
            biases[0].extend_from_slice(&group.b1);
            for l in 1..n_layers {
                weights[l].extend_from_slice(&group.weights[l - 1]);
                biases[l].extend_from_slice(&group.biases[l - 1]);
            }
        }
        (weights, biases)
    }

    pub fn eta(&self) -> &[f64] {
        &self.eta
    }

    pub fn lmbda(&self) -> &[f64] {
        &self.lmbda
    }

    pub fn active(&self) -> &[bool] {
        &self.active
    }

    /// Change the learning rates (schedules); takes effect at the next step.
    pub fn set_eta(&mut self, eta: Vec<f64>) -> Result<()> {
        check_eta(&eta, self.n_models)?;
        self.eta = eta;
        Ok(())
    }

    pub fn set_lmbda(&mut self, lmbda: Vec<f64>) -> Result<()> {
        check_lmbda(&lmbda, self.n_models)?;
        self.lmbda = lmbda;
        Ok(())
    }

    /// Which models keep training; an inactive model's parameters stay as they are.
    pub fn set_active(&mut self, active: Vec<bool>) -> Result<()> {
        ensure(active.len() == self.n_models, "active", || {
            format!("expected {} values, got {}", self.n_models, active.len())
        })?;
        self.active = active;
        Ok(())
    }
}

#[cfg(test)]
mod tests;

/// Deterministic test data in [−scale/2, scale/2) (xorshift), shared by the unit tests.
#[cfg(test)]
pub(crate) fn test_values(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            scale * ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        })
        .collect()
}

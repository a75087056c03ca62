//! Exact gradient and Hessian-vector products of one model's total training cost.
//!
//! The cost is network2.py's `total_cost` as a function of all parameters θ of one model:
//!
//! ```text
//! C(θ) = (1/n) Σ_x C_x(θ) + (λ / 2·n_train) Σ_l ‖W_l‖²        (biases not regularised)
//! ```
//!
//! over the n samples given (all of the training set, or a subsample of it: `n_train` is
//! the training set's size, which sets the L2 term's weight). Products H·v with the Hessian
//! H = ∇²C(θ) are exact (no finite differences): Pearlmutter's R-operator,
//! R{f} = d/dt f(θ + t·v) at t = 0, applied to the forward and the backward pass
//! (forward-over-reverse). One product costs about three passes over the data.
//!
//! Parameters are flattened layer by layer, each layer's weights (out × in, row-major)
//! followed by its biases: θ = [W₁, b₁, W₂, b₂, …], the order of the per-layer
//! (K, out, in) and (K, out) arrays of the Python API for one model.
//!
//! Work is split into fixed tasks of [`TASK_SAMPLES`] samples that run in parallel (rayon);
//! their partial sums are added in task order, so results are bit-identical whatever the
//! number of threads. Layer 1 (784·30 of the book's 23,860 parameters) goes through the
//! engine's [`Kernels`]; the small layers are plain loops. Activations are neuron-major,
//! `a[i·m + k]` = unit i of sample k, as in [`super::network`].

// Index loops here mirror the maths (rows i, columns j, samples k).
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

use super::error::{ensure, InvalidArgument, Result};
use super::float::sigmoid;
use super::kernels::{padded_len, Isa, Kernels};
use super::network::Cost;

/// Samples per block: one forward/backward pass works on this many at once.
const BLOCK_SAMPLES: usize = 64;
/// Samples per parallel task (a whole number of blocks). Partial sums are per task.
pub const TASK_SAMPLES: usize = 512;

/// Number of parameters of a network of these layer sizes.
pub fn n_params(sizes: &[usize]) -> usize {
    sizes.windows(2).map(|s| (s[0] + 1) * s[1]).sum()
}

/// One model: its layer sizes (input first), cost, and per-layer parameters.
pub struct Model<'a> {
    pub sizes: &'a [usize],
    pub cost: Cost,
    /// `weights[l]`: layer l's (sizes[l+1] × sizes[l]) matrix, row-major.
    pub weights: Vec<&'a [f64]>,
    /// `biases[l]`: layer l's sizes[l+1] biases.
    pub biases: Vec<&'a [f64]>,
}

/// The total training cost of one model on a set of samples, as a function of θ.
pub struct TrainingCost<'a> {
    model: Model<'a>,
    /// Samples, n × sizes[0] row-major.
    x: &'a [f64],
    labels: Vec<u32>,
    /// λ / n_train: the curvature of the L2 term.
    l2: f64,
    /// Layer-1 weights with rows padded to `stride` for the kernels.
    w1: Vec<f64>,
    stride: usize,
    isa: Isa,
}

/// Where each layer's weights and biases start in θ.
#[derive(Clone, Copy)]
struct Slot {
    w: usize,
    b: usize,
    n_in: usize,
    n_out: usize,
}

fn slots(sizes: &[usize]) -> Vec<Slot> {
    let mut at = 0;
    sizes
        .windows(2)
        .map(|s| {
            let slot = Slot {
                w: at,
                b: at + s[0] * s[1],
                n_in: s[0],
                n_out: s[1],
            };
            at = slot.b + s[1];
            slot
        })
        .collect()
}

/// Copy rows of length `n` into rows of length `stride` (the tail stays zero).
fn pad_rows(src: &[f64], n: usize, stride: usize, dst: &mut [f64]) {
    for (row, src_row) in dst.chunks_exact_mut(stride).zip(src.chunks_exact(n)) {
        row[..n].copy_from_slice(src_row);
    }
}

fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

impl<'a> TrainingCost<'a> {
    /// Check everything and set up. `y` are class labels in [0, sizes[last]); `n_train`
    /// (the size of the training set, default n) sets the L2 weight λ / (2·n_train).
    pub fn new(
        model: Model<'a>,
        x: &'a [f64],
        y: &[i64],
        lmbda: f64,
        n_train: Option<usize>,
    ) -> Result<Self> {
        let sizes = model.sizes;
        ensure(sizes.len() >= 2, "sizes", || {
            format!("need at least an input and an output layer, got {sizes:?}")
        })?;
        ensure(sizes.iter().all(|&s| s >= 1), "sizes", || {
            format!("every layer needs at least one unit, got {sizes:?}")
        })?;
        let n_layers = sizes.len() - 1;
        ensure(model.weights.len() == n_layers, "weights", || {
            format!(
                "expected {n_layers} arrays (one per layer), got {}",
                model.weights.len()
            )
        })?;
        ensure(model.biases.len() == n_layers, "biases", || {
            format!(
                "expected {n_layers} arrays (one per layer), got {}",
                model.biases.len()
            )
        })?;
        for (l, s) in slots(sizes).iter().enumerate() {
            let (w, b) = (model.weights[l], model.biases[l]);
            ensure(w.len() == s.n_out * s.n_in, "weights", || {
                format!(
                    "layer {l}: expected {}×{} values, got {}",
                    s.n_out,
                    s.n_in,
                    w.len()
                )
            })?;
            ensure(b.len() == s.n_out, "biases", || {
                format!("layer {l}: expected {} values, got {}", s.n_out, b.len())
            })?;
            ensure(all_finite(w), "weights", || {
                format!("layer {l} contains NaN or inf")
            })?;
            ensure(all_finite(b), "biases", || {
                format!("layer {l} contains NaN or inf")
            })?;
        }
        let (n_in, n_out) = (sizes[0], sizes[n_layers]);
        let n = y.len();
        ensure(n >= 1, "y", || "need at least one sample".into())?;
        ensure(x.len() == n * n_in, "X", || {
            format!("expected {n}×{n_in} values for {n} labels, got {}", x.len())
        })?;
        ensure(all_finite(x), "X", || "contains NaN or inf".into())?;
        if let Some(k) = y.iter().position(|&v| v < 0 || v as u64 >= n_out as u64) {
            return Err(InvalidArgument {
                name: "y",
                message: format!("label {} at index {k} is outside [0, {n_out})", y[k]),
            });
        }
        ensure(lmbda.is_finite() && lmbda >= 0.0, "lmbda", || {
            format!("must be finite and >= 0, got {lmbda}")
        })?;
        let n_train = n_train.unwrap_or(n);
        ensure(n_train >= 1, "n_train", || "must be >= 1".into())?;

        let stride = padded_len(n_in);
        let mut w1 = vec![0.0; sizes[1] * stride];
        pad_rows(model.weights[0], n_in, stride, &mut w1);
        Ok(TrainingCost {
            model,
            x,
            labels: y.iter().map(|&v| v as u32).collect(),
            l2: lmbda / n_train as f64,
            w1,
            stride,
            isa: Isa::detect(),
        })
    }

    pub fn n_params(&self) -> usize {
        n_params(self.model.sizes)
    }

    pub fn n_samples(&self) -> usize {
        self.labels.len()
    }

    /// C(θ) and ∇C(θ) (flattened as θ), on the current rayon pool.
    pub fn value_and_gradient(&self) -> (f64, Vec<f64>) {
        let partials = self.per_task(1, |pass, block| {
            let cost = pass.forward(block);
            pass.backward(block);
            pass.accumulate_gradient(block);
            cost
        });
        let mut total = 0.0;
        let mut grad = vec![0.0; self.n_params()];
        for (cost, sums) in partials {
            total += cost;
            add(&mut grad, &sums[0]);
        }
        let n = self.n_samples() as f64;
        let mut sq_norm = 0.0;
        for (l, s) in slots(self.model.sizes).iter().enumerate() {
            let w = self.model.weights[l];
            sq_norm += w.iter().map(|v| v * v).sum::<f64>();
            for (g, &wv) in grad[s.w..s.b].iter_mut().zip(w) {
                *g = *g / n + self.l2 * wv;
            }
            for g in &mut grad[s.b..s.b + s.n_out] {
                *g /= n;
            }
        }
        (total / n + 0.5 * self.l2 * sq_norm, grad)
    }

    /// H·v for each of the k vectors in `v` (k × P row-major); returns k × P.
    /// Runs on the current rayon pool.
    pub fn hessian_vector_products(&self, v: &[f64]) -> Result<Vec<f64>> {
        let p = self.n_params();
        ensure(!v.is_empty() && v.len().is_multiple_of(p), "v", || {
            format!(
                "expected k×{p} values (k >= 1 vectors of {p} parameters), got {}",
                v.len()
            )
        })?;
        ensure(all_finite(v), "v", || "contains NaN or inf".into())?;
        let k = v.len() / p;
        let directions: Vec<Direction> = v.chunks_exact(p).map(|d| self.direction(d)).collect();
        let partials = self.per_task(k, |pass, block| {
            pass.forward(block);
            pass.backward(block);
            for (i, d) in directions.iter().enumerate() {
                pass.r_forward(block, d);
                pass.r_backward(block, d);
                pass.accumulate_r_gradient(block, i);
            }
            0.0
        });
        let mut hv = vec![0.0; k * p];
        for (_, sums) in partials {
            for (out, s) in hv.chunks_exact_mut(p).zip(&sums) {
                add(out, s);
            }
        }
        let n = self.n_samples() as f64;
        let slots = slots(self.model.sizes);
        for (out, d) in hv.chunks_exact_mut(p).zip(v.chunks_exact(p)) {
            for s in &slots {
                for (h, &dv) in out[s.w..s.b].iter_mut().zip(&d[s.w..s.b]) {
                    *h = *h / n + self.l2 * dv;
                }
                for h in &mut out[s.b..s.b + s.n_out] {
                    *h /= n;
                }
            }
        }
        Ok(hv)
    }

    fn direction(&self, d: &[f64]) -> Direction {
        let n_in = self.model.sizes[0];
        let mut v1 = vec![0.0; self.model.sizes[1] * self.stride];
        pad_rows(&d[..self.model.sizes[1] * n_in], n_in, self.stride, &mut v1);
        Direction {
            theta: d.to_vec(),
            v1,
        }
    }

    /// Run `work` on every block of every task in parallel; per task, the sum of what
    /// `work` returns and the `n_sums` θ-shaped sums it accumulated.
    fn per_task<F>(&self, n_sums: usize, work: F) -> Vec<(f64, Vec<Vec<f64>>)>
    where
        F: Fn(&mut Pass<'_>, &Block<'_>) -> f64 + Sync,
    {
        let n = self.n_samples();
        let n_tasks = n.div_ceil(TASK_SAMPLES);
        (0..n_tasks)
            .into_par_iter()
            .map(|t| {
                let mut pass = Pass::new(self, n_sums);
                let mut value = 0.0;
                let mut x = vec![0.0; BLOCK_SAMPLES * self.stride];
                let task_end = ((t + 1) * TASK_SAMPLES).min(n);
                let mut start = t * TASK_SAMPLES;
                while start < task_end {
                    let end = (start + BLOCK_SAMPLES).min(task_end);
                    let m = end - start;
                    let n_in = self.model.sizes[0];
                    pad_rows(
                        &self.x[start * n_in..end * n_in],
                        n_in,
                        self.stride,
                        &mut x[..m * self.stride],
                    );
                    let block = Block {
                        x: &x[..m * self.stride],
                        labels: &self.labels[start..end],
                        m,
                    };
                    value += work(&mut pass, &block);
                    start = end;
                }
                (value, pass.finish())
            })
            .collect()
    }
}

fn add(acc: &mut [f64], v: &[f64]) {
    for (a, &b) in acc.iter_mut().zip(v) {
        *a += b;
    }
}

/// A direction v in parameter space: flat, and its layer-1 part padded for the kernels.
struct Direction {
    theta: Vec<f64>,
    v1: Vec<f64>,
}

/// The samples of one block: padded rows of x and their labels.
struct Block<'b> {
    x: &'b [f64],
    labels: &'b [u32],
    m: usize,
}

/// One task's workspace and running sums.
struct Pass<'c> {
    c: &'c TrainingCost<'c>,
    slots: Vec<Slot>,
    /// Per layer, out × m: activations a, ∂C_x/∂z (`delta`), and for hidden layers
    /// ∂C_x/∂a (`back`, δ before the σ' factor).
    a: Vec<Vec<f64>>,
    delta: Vec<Vec<f64>>,
    back: Vec<Vec<f64>>,
    z_out: Vec<f64>,
    /// R{z}, R{a}, R{δ} per layer, and R{∂C_x/∂a} of one layer.
    rz: Vec<Vec<f64>>,
    ra: Vec<Vec<f64>>,
    rdelta: Vec<Vec<f64>>,
    rback: Vec<f64>,
    /// Running sums: per vector, θ-shaped (layer 1's weights unused), and layer 1's
    /// weights padded (the kernels accumulate there).
    sums: Vec<Vec<f64>>,
    sums_w1: Vec<Vec<f64>>,
}

/// `out[i·m + k] += Σ_j w[i·n_in + j]·inp[j·m + k]` (W·inp).
fn add_product(w: &[f64], inp: &[f64], m: usize, out: &mut [f64]) {
    let n_in = inp.len() / m;
    for (i, row) in out.chunks_exact_mut(m).enumerate() {
        for j in 0..n_in {
            let wij = w[i * n_in + j];
            for (o, &x) in row.iter_mut().zip(&inp[j * m..(j + 1) * m]) {
                *o += wij * x;
            }
        }
    }
}

/// `out[i·m + k] = b[i] + Σ_j w[i·n_in + j]·inp[j·m + k]` (pre-activations).
fn affine(w: &[f64], b: &[f64], inp: &[f64], m: usize, out: &mut [f64]) {
    for (row, &bi) in out.chunks_exact_mut(m).zip(b) {
        row.fill(bi);
    }
    add_product(w, inp, m, out);
}

/// `out[j·m + k] += Σ_i w[i·n_in + j]·d[i·m + k]` (Wᵀ·d).
fn add_transposed(w: &[f64], d: &[f64], m: usize, out: &mut [f64]) {
    let n_out = d.len() / m;
    let n_in = w.len() / n_out;
    for i in 0..n_out {
        for j in 0..n_in {
            let wij = w[i * n_in + j];
            for (o, &dv) in out[j * m..(j + 1) * m]
                .iter_mut()
                .zip(&d[i * m..(i + 1) * m])
            {
                *o += wij * dv;
            }
        }
    }
}

/// `g[i·n_in + j] += Σ_k d[i·m + k]·a[j·m + k]` (d·aᵀ).
fn add_outer(d: &[f64], a: &[f64], m: usize, g: &mut [f64]) {
    let n_in = a.len() / m;
    for (i, d_row) in d.chunks_exact(m).enumerate() {
        for j in 0..n_in {
            let a_row = &a[j * m..(j + 1) * m];
            g[i * n_in + j] += d_row.iter().zip(a_row).map(|(x, y)| x * y).sum::<f64>();
        }
    }
}

/// `gb[i] += Σ_k d[i·m + k]` (bias gradients).
fn add_row_sums(d: &[f64], m: usize, gb: &mut [f64]) {
    for (g, row) in gb.iter_mut().zip(d.chunks_exact(m)) {
        *g += row.iter().sum::<f64>();
    }
}

/// Layer-1 pre-activations of a block: `out[i·m + k] = b[i] + w_i · x_k`, with `w` padded
/// rows of `c.stride`.
fn first_layer(c: &TrainingCost<'_>, w: &[f64], b: &[f64], block: &Block<'_>, out: &mut [f64]) {
    f64::dot(c.isa, w, c.stride, block.x, out);
    for (row, &bi) in out.chunks_exact_mut(block.m).zip(b) {
        for v in row {
            *v += bi;
        }
    }
}

impl<'c> Pass<'c> {
    fn new(c: &'c TrainingCost<'c>, n_sums: usize) -> Self {
        let sizes = c.model.sizes;
        let per_layer = || -> Vec<Vec<f64>> {
            sizes[1..]
                .iter()
                .map(|&s| vec![0.0; s * BLOCK_SAMPLES])
                .collect()
        };
        let widest = sizes[1..].iter().copied().max().unwrap_or(1);
        Pass {
            c,
            slots: slots(sizes),
            a: per_layer(),
            delta: per_layer(),
            back: per_layer(),
            z_out: vec![0.0; sizes[sizes.len() - 1] * BLOCK_SAMPLES],
            rz: per_layer(),
            ra: per_layer(),
            rdelta: per_layer(),
            rback: vec![0.0; widest * BLOCK_SAMPLES],
            sums: (0..n_sums).map(|_| vec![0.0; n_params(sizes)]).collect(),
            sums_w1: (0..n_sums)
                .map(|_| vec![0.0; sizes[1] * c.stride])
                .collect(),
        }
    }

    fn n_layers(&self) -> usize {
        self.slots.len()
    }

    /// Forward pass; returns the block's summed cost (without the L2 term).
    fn forward(&mut self, block: &Block<'_>) -> f64 {
        let (m, last) = (block.m, self.n_layers() - 1);
        let model = &self.c.model;
        for l in 0..=last {
            let n_out = self.slots[l].n_out;
            let (before, after) = self.a.split_at_mut(l);
            let out = &mut after[0][..n_out * m];
            if l == 0 {
                first_layer(self.c, &self.c.w1, model.biases[0], block, out);
            } else {
                affine(
                    model.weights[l],
                    model.biases[l],
                    &before[l - 1][..self.slots[l].n_in * m],
                    m,
                    out,
                );
            }
            if l == last {
                self.z_out[..n_out * m].copy_from_slice(out);
            }
            for v in out.iter_mut() {
                *v = sigmoid(*v);
            }
        }
        let n_out = self.slots[last].n_out;
        let mut cost = 0.0;
        for i in 0..n_out {
            for (k, &label) in block.labels.iter().enumerate() {
                let y = if label as usize == i { 1.0 } else { 0.0 };
                let j = i * m + k;
                cost += model.cost.unit_cost(self.z_out[j], self.a[last][j], y);
            }
        }
        cost
    }

    /// Backward pass after [`Pass::forward`]: fills `delta` and `back`.
    fn backward(&mut self, block: &Block<'_>) {
        let (m, last) = (block.m, self.n_layers() - 1);
        let cost = self.c.model.cost;
        let n_out = self.slots[last].n_out;
        for i in 0..n_out {
            for (k, &label) in block.labels.iter().enumerate() {
                let y = if label as usize == i { 1.0 } else { 0.0 };
                let j = i * m + k;
                self.delta[last][j] = cost.output_delta(self.a[last][j], y);
            }
        }
        for l in (0..last).rev() {
            let n = self.slots[l].n_out * m;
            let back = &mut self.back[l][..n];
            back.fill(0.0);
            add_transposed(
                self.c.model.weights[l + 1],
                &self.delta[l + 1][..self.slots[l + 1].n_out * m],
                m,
                back,
            );
            for ((d, &g), &a) in self.delta[l][..n].iter_mut().zip(&*back).zip(&self.a[l]) {
                *d = g * a * (1.0 - a);
            }
        }
    }

    /// Adds the block's Σ_x ∇C_x to `sums[0]`.
    fn accumulate_gradient(&mut self, block: &Block<'_>) {
        let m = block.m;
        for l in 0..self.n_layers() {
            let s = self.slots[l];
            let d = &self.delta[l][..s.n_out * m];
            if l == 0 {
                f64::update_then_dot(
                    self.c.isa,
                    &mut self.sums_w1[0],
                    self.c.stride,
                    1.0,
                    d,
                    block.x,
                    m,
                    &[],
                    &mut [],
                );
            } else {
                add_outer(
                    d,
                    &self.a[l - 1][..s.n_in * m],
                    m,
                    &mut self.sums[0][s.w..s.b],
                );
            }
            add_row_sums(d, m, &mut self.sums[0][s.b..s.b + s.n_out]);
        }
    }

    /// R-forward pass along `dir`: R{z} and R{a} of every layer.
    fn r_forward(&mut self, block: &Block<'_>, dir: &Direction) {
        let m = block.m;
        let model = &self.c.model;
        for l in 0..self.n_layers() {
            let s = self.slots[l];
            let (vw, vb) = (&dir.theta[s.w..s.b], &dir.theta[s.b..s.b + s.n_out]);
            let n = s.n_out * m;
            {
                let rz = &mut self.rz[l][..n];
                if l == 0 {
                    first_layer(self.c, &dir.v1, vb, block, rz);
                } else {
                    // R{z_l} = V_l·a_{l−1} + W_l·R{a_{l−1}} + c_l
                    affine(vw, vb, &self.a[l - 1][..s.n_in * m], m, rz);
                    add_product(model.weights[l], &self.ra[l - 1][..s.n_in * m], m, rz);
                }
            }
            for ((ra, &rz), &a) in self.ra[l][..n]
                .iter_mut()
                .zip(&self.rz[l][..n])
                .zip(&self.a[l])
            {
                *ra = a * (1.0 - a) * rz;
            }
        }
    }

    /// R-backward pass along `dir` after [`Pass::r_forward`]: R{δ} of every layer.
    fn r_backward(&mut self, block: &Block<'_>, dir: &Direction) {
        let (m, last) = (block.m, self.n_layers() - 1);
        let cost = self.c.model.cost;
        let n_out = self.slots[last].n_out;
        for i in 0..n_out {
            for (k, &label) in block.labels.iter().enumerate() {
                let y = if label as usize == i { 1.0 } else { 0.0 };
                let j = i * m + k;
                let a = self.a[last][j];
                let sp = a * (1.0 - a);
                // dδ/dz of the output layer: σ' for cross-entropy (δ = a − y), and
                // σ'² + (a − y)·σ'' for the quadratic cost (δ = (a − y)·σ').
                let slope = match cost {
                    Cost::CrossEntropy => sp,
                    Cost::Quadratic => sp * sp + (a - y) * sp * (1.0 - 2.0 * a),
                };
                self.rdelta[last][j] = slope * self.rz[last][j];
            }
        }
        for l in (0..last).rev() {
            let (up, s) = (self.slots[l + 1], self.slots[l]);
            let n = s.n_out * m;
            // R{∂C/∂a_l} = V_{l+1}ᵀ·δ_{l+1} + W_{l+1}ᵀ·R{δ_{l+1}}
            let rback = &mut self.rback[..n];
            rback.fill(0.0);
            add_transposed(
                &dir.theta[up.w..up.b],
                &self.delta[l + 1][..up.n_out * m],
                m,
                rback,
            );
            add_transposed(
                self.c.model.weights[l + 1],
                &self.rdelta[l + 1][..up.n_out * m],
                m,
                rback,
            );
            // R{δ_l} = R{∂C/∂a_l}·σ' + ∂C/∂a_l·σ''·R{z_l}, σ' = a(1 − a), σ'' = σ'(1 − 2a)
            for j in 0..n {
                let a = self.a[l][j];
                let sp = a * (1.0 - a);
                self.rdelta[l][j] =
                    rback[j] * sp + self.back[l][j] * sp * (1.0 - 2.0 * a) * self.rz[l][j];
            }
        }
    }

    /// Adds the block's Σ_x R{∇C_x} (without the L2 term) to `sums[i]`.
    fn accumulate_r_gradient(&mut self, block: &Block<'_>, i: usize) {
        let m = block.m;
        for l in 0..self.n_layers() {
            let s = self.slots[l];
            let rd = &self.rdelta[l][..s.n_out * m];
            if l == 0 {
                // R{Σ δ_1 xᵀ} = Σ R{δ_1} xᵀ
                f64::update_then_dot(
                    self.c.isa,
                    &mut self.sums_w1[i],
                    self.c.stride,
                    1.0,
                    rd,
                    block.x,
                    m,
                    &[],
                    &mut [],
                );
            } else {
                // R{Σ δ_l a_{l−1}ᵀ} = Σ R{δ_l} a_{l−1}ᵀ + δ_l R{a_{l−1}}ᵀ
                let g = &mut self.sums[i][s.w..s.b];
                add_outer(rd, &self.a[l - 1][..s.n_in * m], m, g);
                add_outer(
                    &self.delta[l][..s.n_out * m],
                    &self.ra[l - 1][..s.n_in * m],
                    m,
                    g,
                );
            }
            add_row_sums(rd, m, &mut self.sums[i][s.b..s.b + s.n_out]);
        }
    }

    /// The running sums, θ-shaped, with layer 1's weights copied out of their padding.
    fn finish(mut self) -> Vec<Vec<f64>> {
        let (n_in, stride) = (self.slots[0].n_in, self.c.stride);
        for (sum, w1) in self.sums.iter_mut().zip(&self.sums_w1) {
            let dst = &mut sum[..self.slots[0].b];
            for (row, src) in dst.chunks_exact_mut(n_in).zip(w1.chunks_exact(stride)) {
                row.copy_from_slice(&src[..n_in]);
            }
        }
        self.sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_values;

    /// The model of flat parameters `theta`.
    fn model_at<'a>(sizes: &'a [usize], cost: Cost, theta: &'a [f64]) -> Model<'a> {
        let slots = slots(sizes);
        Model {
            sizes,
            cost,
            weights: slots.iter().map(|s| &theta[s.w..s.b]).collect(),
            biases: slots.iter().map(|s| &theta[s.b..s.b + s.n_out]).collect(),
        }
    }

    /// A model's parameters (flat θ), samples and labels.
    struct Problem {
        sizes: Vec<usize>,
        cost: Cost,
        theta: Vec<f64>,
        x: Vec<f64>,
        y: Vec<i64>,
        lmbda: f64,
        n_train: Option<usize>,
    }

    impl Problem {
        fn new(sizes: &[usize], cost: Cost, n: usize) -> Self {
            Problem {
                sizes: sizes.to_vec(),
                cost,
                theta: test_values(n_params(sizes), 3, 3.0),
                x: test_values(n * sizes[0], 1, 2.0)
                    .iter()
                    .map(|v| v + 0.5)
                    .collect(),
                y: (0..n)
                    .map(|i| (i * 7 % sizes[sizes.len() - 1]) as i64)
                    .collect(),
                lmbda: 0.7,
                n_train: Some(2 * n),
            }
        }

        fn at<'a>(&'a self, theta: &'a [f64]) -> TrainingCost<'a> {
            let model = model_at(&self.sizes, self.cost, theta);
            TrainingCost::new(model, &self.x, &self.y, self.lmbda, self.n_train).expect("valid")
        }

        fn cost(&self, theta: &[f64]) -> f64 {
            self.at(theta).value_and_gradient().0
        }

        fn gradient(&self, theta: &[f64]) -> Vec<f64> {
            self.at(theta).value_and_gradient().1
        }

        fn hvp(&self, v: &[f64]) -> Vec<f64> {
            self.at(&self.theta)
                .hessian_vector_products(v)
                .expect("valid v")
        }
    }

    /// Several tasks (n > TASK_SAMPLES), partial blocks, 1 to 3 layers, both costs.
    fn problems() -> Vec<Problem> {
        let mut out = Vec::new();
        for cost in [Cost::CrossEntropy, Cost::Quadratic] {
            out.push(Problem::new(&[5, 4, 3, 3], cost, TASK_SAMPLES + 77));
            out.push(Problem::new(&[6, 3], cost, 70));
            out.push(Problem::new(&[20, 7, 4], cost, 130));
        }
        out
    }

    fn assert_close(got: &[f64], want: &[f64], rtol: f64, what: &str) {
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= rtol * scale,
                "{what}[{i}]: {g} vs {w} (scale {scale})"
            );
        }
    }

    fn shifted(theta: &[f64], v: &[f64], t: f64) -> Vec<f64> {
        theta.iter().zip(v).map(|(a, b)| a + t * b).collect()
    }

    #[test]
    fn gradient_matches_finite_differences_of_the_cost() {
        for p in problems() {
            let grad = p.gradient(&p.theta);
            let h = 1e-5;
            let fd: Vec<f64> = (0..p.theta.len())
                .map(|i| {
                    let mut e = vec![0.0; p.theta.len()];
                    e[i] = 1.0;
                    (p.cost(&shifted(&p.theta, &e, h)) - p.cost(&shifted(&p.theta, &e, -h)))
                        / (2.0 * h)
                })
                .collect();
            assert_close(&grad, &fd, 1e-7, "gradient");
        }
    }

    #[test]
    fn hvp_matches_finite_differences_of_the_gradient() {
        for p in problems() {
            for seed in [5, 6] {
                let v = test_values(p.theta.len(), seed, 2.0);
                let hv = p.hvp(&v);
                let h = 1e-5;
                let (gp, gm) = (
                    p.gradient(&shifted(&p.theta, &v, h)),
                    p.gradient(&shifted(&p.theta, &v, -h)),
                );
                let fd: Vec<f64> = gp
                    .iter()
                    .zip(&gm)
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect();
                assert_close(&hv, &fd, 1e-7, "H·v");
            }
        }
    }

    #[test]
    fn hessian_is_symmetric() {
        for p in problems() {
            let (u, v) = (
                test_values(p.theta.len(), 7, 2.0),
                test_values(p.theta.len(), 8, 2.0),
            );
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
            let (uhv, vhu) = (dot(&u, &p.hvp(&v)), dot(&v, &p.hvp(&u)));
            assert!(
                (uhv - vhu).abs() <= 1e-12 * uhv.abs().max(1.0),
                "{uhv} vs {vhu}"
            );
        }
    }

    #[test]
    fn l2_term_adds_lmbda_over_n_train_times_the_weights_part() {
        let mut p = Problem::new(&[5, 4, 3], Cost::CrossEntropy, 90);
        let v = test_values(p.theta.len(), 9, 2.0);
        let with = p.hvp(&v);
        p.lmbda = 0.0;
        let without = p.hvp(&v);
        let l2 = 0.7 / 180.0;
        for s in slots(&p.sizes) {
            for i in s.w..s.b {
                assert!((with[i] - without[i] - l2 * v[i]).abs() < 1e-14);
            }
            for i in s.b..s.b + s.n_out {
                assert_eq!(with[i], without[i]);
            }
        }
    }

    #[test]
    fn batched_vectors_give_the_same_bits_as_single_ones() {
        let p = Problem::new(&[5, 4, 3, 3], Cost::Quadratic, TASK_SAMPLES + 77);
        let n = p.theta.len();
        let vs = test_values(3 * n, 11, 2.0);
        let batched = p.hvp(&vs);
        for (i, v) in vs.chunks_exact(n).enumerate() {
            assert_eq!(p.hvp(v), batched[i * n..(i + 1) * n]);
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let p = Problem::new(&[20, 7, 4], Cost::CrossEntropy, 3 * TASK_SAMPLES + 5);
        let v = test_values(p.theta.len(), 12, 2.0);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| (p.at(&p.theta).value_and_gradient(), p.hvp(&v)))
        };
        let one = run(1);
        for threads in [2, 3] {
            assert_eq!(run(threads), one);
        }
    }

    #[test]
    fn bad_input_is_an_error_naming_the_argument() {
        let p = Problem::new(&[5, 4, 3], Cost::CrossEntropy, 10);
        let slots = slots(&p.sizes);
        let model = |theta| model_at(&p.sizes, p.cost, theta);
        let name = |r: Result<TrainingCost<'_>>| r.err().expect("an error").name;
        let mut nan = p.theta.clone();
        nan[0] = f64::NAN;
        assert_eq!(
            name(TrainingCost::new(model(&nan), &p.x, &p.y, 0.0, None)),
            "weights"
        );
        let mut nan_b = p.theta.clone();
        nan_b[slots[1].b] = f64::INFINITY;
        assert_eq!(
            name(TrainingCost::new(model(&nan_b), &p.x, &p.y, 0.0, None)),
            "biases"
        );
        let ok = || model(&p.theta);
        assert_eq!(
            name(TrainingCost::new(ok(), &p.x[1..], &p.y, 0.0, None)),
            "X"
        );
        assert_eq!(
            name(TrainingCost::new(
                ok(),
                &p.x,
                &[0, 1, 3, 0, 0, 0, 0, 0, 0, 0],
                0.0,
                None
            )),
            "y"
        );
        assert_eq!(
            name(TrainingCost::new(ok(), &p.x, &[-1; 10], 0.0, None)),
            "y"
        );
        assert_eq!(name(TrainingCost::new(ok(), &[], &[], 0.0, None)), "y");
        assert_eq!(
            name(TrainingCost::new(ok(), &p.x, &p.y, -1.0, None)),
            "lmbda"
        );
        assert_eq!(
            name(TrainingCost::new(ok(), &p.x, &p.y, f64::NAN, None)),
            "lmbda"
        );
        assert_eq!(
            name(TrainingCost::new(ok(), &p.x, &p.y, 0.0, Some(0))),
            "n_train"
        );
        let mut short = ok();
        short.weights.pop();
        assert_eq!(
            name(TrainingCost::new(short, &p.x, &p.y, 0.0, None)),
            "weights"
        );
        let mut wrong = ok();
        wrong.biases[0] = &p.theta[..3];
        assert_eq!(
            name(TrainingCost::new(wrong, &p.x, &p.y, 0.0, None)),
            "biases"
        );
        let bad_sizes = Model {
            sizes: &[5],
            cost: p.cost,
            weights: vec![],
            biases: vec![],
        };
        assert_eq!(
            name(TrainingCost::new(bad_sizes, &p.x, &p.y, 0.0, None)),
            "sizes"
        );
        let zero = Model {
            sizes: &[5, 0],
            cost: p.cost,
            weights: vec![&[]],
            biases: vec![&[]],
        };
        assert_eq!(
            name(TrainingCost::new(zero, &p.x, &p.y, 0.0, None)),
            "sizes"
        );

        let c = p.at(&p.theta);
        let n = c.n_params();
        for v in [vec![], vec![1.0; n + 1], vec![f64::NAN; n]] {
            assert_eq!(
                c.hessian_vector_products(&v).expect_err("an error").name,
                "v"
            );
        }
    }
}

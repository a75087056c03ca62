//! One model's small layers (2 and up), its costs and its backward pass.
//!
//! Layer 1 runs through [`super::kernels`]; everything after it is a few hundred
//! multiply-adds per sample, written as plain loops in the reference's order of operations.
//! Activations are neuron-major: `a[i·m + k]` is neuron i for sample k of the batch.

// Index loops here mirror the maths (rows i, columns j, samples k).
#![allow(clippy::needless_range_loop)]

use super::float::{ln_1p_exp_neg, sigmoid, Float};

/// The cost function, as in `network2.py`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    CrossEntropy,
    Quadratic,
}

impl Cost {
    pub fn parse(name: &str) -> Option<Cost> {
        match name {
            "cross_entropy" => Some(Cost::CrossEntropy),
            "quadratic" => Some(Cost::Quadratic),
            _ => None,
        }
    }

    /// Cost of one output unit with pre-activation `z`, activation `a` and target `y`.
    ///
    /// Cross-entropy is `−y ln a − (1 − y) ln(1 − a)` evaluated as
    /// `max(z, 0) − y·z + ln(1 + e^(−|z|))`: the same number wherever the former is finite,
    /// and finite where σ(z) rounds to exactly 0 or 1 (network2's `nan_to_num` gives ~1.8e308).
    #[inline(always)]
    pub fn unit_cost(self, z: f64, a: f64, y: f64) -> f64 {
        match self {
            Cost::CrossEntropy => z.max(0.0) - y * z + ln_1p_exp_neg(z.abs()),
            Cost::Quadratic => 0.5 * (a - y) * (a - y),
        }
    }

    /// ∂C/∂z of one output unit.
    #[inline(always)]
    pub fn output_delta<T: Float>(self, a: T, y: T) -> T {
        match self {
            Cost::CrossEntropy => a - y,
            Cost::Quadratic => (a - y) * a * (T::ONE - a),
        }
    }
}

/// Where model `g`'s layers 2.. live in a group: `weights[l - 1]` holds every model's layer-l
/// matrix (sizes[l+1] × sizes[l], row-major), model after model; `biases` likewise.
pub struct Tail<'a, T> {
    /// Layer sizes of the whole network, input first.
    pub sizes: &'a [usize],
    pub weights: &'a [Vec<T>],
    pub biases: &'a [Vec<T>],
    pub g: usize,
}

/// The slice of model `g`'s layer `l` (l ≥ 1) in per-group storage.
fn range(sizes: &[usize], l: usize, g: usize, weights: bool) -> std::ops::Range<usize> {
    let len = if weights {
        sizes[l + 1] * sizes[l]
    } else {
        sizes[l + 1]
    };
    g * len..(g + 1) * len
}

impl<T> Tail<'_, T> {
    fn weight(&self, l: usize) -> &[T] {
        &self.weights[l - 1][range(self.sizes, l, self.g, true)]
    }

    fn bias(&self, l: usize) -> &[T] {
        &self.biases[l - 1][range(self.sizes, l, self.g, false)]
    }
}

/// Scratch for one model's pass over a batch of at most `m` samples.
pub struct Scratch<T> {
    /// `act[l]`: activations of layer l (l = 0 is the first hidden layer), out_l × m.
    pub act: Vec<Vec<T>>,
    /// `delta[l]`: ∂C/∂z of layer l, out_l × m.
    pub delta: Vec<Vec<T>>,
    /// Pre-activations of the output layer.
    pub z_out: Vec<T>,
    /// Cost of each sample of the batch, summed over output units.
    pub sample_cost: Vec<f64>,
}

impl<T: Float> Scratch<T> {
    pub fn new(sizes: &[usize], m: usize) -> Self {
        let per_layer = || sizes[1..].iter().map(|&s| vec![T::ZERO; s * m]).collect();
        Scratch {
            act: per_layer(),
            delta: per_layer(),
            z_out: vec![T::ZERO; sizes[sizes.len() - 1] * m],
            sample_cost: vec![0.0; m],
        }
    }
}

/// `out[i·m + k] = b[i] + Σ_j w[i·n_in + j]·inp[j·m + k]` (pre-activations).
#[inline(always)]
fn affine<T: Float>(w: &[T], b: &[T], inp: &[T], m: usize, out: &mut [T]) {
    let n_out = b.len();
    let n_in = w.len() / n_out;
    for i in 0..n_out {
        let row = &mut out[i * m..(i + 1) * m];
        row.fill(T::ZERO);
        for j in 0..n_in {
            let wij = w[i * n_in + j];
            for (o, &x) in row.iter_mut().zip(&inp[j * m..(j + 1) * m]) {
                *o += wij * x;
            }
        }
        for o in row.iter_mut() {
            *o += b[i];
        }
    }
}

/// Forward pass from layer-1 pre-activations `z1` (without bias, out_0 × m) to the output.
/// Fills `s.act` for every layer and `s.z_out`.
#[inline(always)]
pub fn forward<T: Float>(tail: &Tail<'_, T>, b1: &[T], z1: &[T], m: usize, s: &mut Scratch<T>) {
    let n_layers = tail.sizes.len() - 1;
    let h1 = b1.len();
    {
        let a0 = &mut s.act[0][..h1 * m];
        for r in 0..h1 {
            for k in 0..m {
                a0[r * m + k] = z1[r * m + k] + b1[r];
            }
        }
    }
    if n_layers == 1 {
        s.z_out[..h1 * m].copy_from_slice(&s.act[0][..h1 * m]);
    }
    for v in &mut s.act[0][..h1 * m] {
        *v = sigmoid(*v);
    }
    for l in 1..n_layers {
        let n_out = tail.sizes[l + 1];
        let (before, after) = s.act.split_at_mut(l);
        let out = &mut after[0][..n_out * m];
        affine(tail.weight(l), tail.bias(l), &before[l - 1], m, out);
        if l == n_layers - 1 {
            s.z_out[..n_out * m].copy_from_slice(out);
        }
        for v in out.iter_mut() {
            *v = sigmoid(*v);
        }
    }
}

/// Per-sample cost (summed over outputs) and whether the prediction is right, for m samples
/// after [`forward`]. Adds into `cost_sum` and `correct`.
#[inline(always)]
pub fn score<T: Float>(
    cost: Cost,
    s: &mut Scratch<T>,
    n_out: usize,
    labels: &[u32],
    m: usize,
    cost_sum: &mut f64,
    correct: &mut u64,
) {
    let a = &s.act[s.act.len() - 1];
    let sample_cost = &mut s.sample_cost[..m];
    sample_cost.fill(0.0);
    // Output row by output row, so the loop over samples vectorises.
    for i in 0..n_out {
        let (z_row, a_row) = (&s.z_out[i * m..(i + 1) * m], &a[i * m..(i + 1) * m]);
        for k in 0..m {
            let y = if labels[k] as usize == i { 1.0 } else { 0.0 };
            sample_cost[k] += cost.unit_cost(z_row[k].to_f64(), a_row[k].to_f64(), y);
        }
    }
    *cost_sum += sample_cost.iter().sum::<f64>();
    for (k, &label) in labels.iter().enumerate().take(m) {
        let mut best = 0usize;
        for i in 1..n_out {
            // First maximum wins, as numpy's argmax.
            if a[i * m + k] > a[best * m + k] {
                best = i;
            }
        }
        if best as u32 == label {
            *correct += 1;
        }
    }
}

/// Backward pass and update of layers 2.. for one model after [`forward`] on the same batch.
///
/// Fills `s.delta` (using the weights *before* this step's update), applies
/// `w ← decay·w − c·δ·aᵀ`, `b ← b − c·Σδ` to layers 2.., updates `b1`, and leaves
/// `coef = −c·δ₁` for the layer-1 kernel.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn backward_and_update<T: Float>(
    cost: Cost,
    sizes: &[usize],
    weights: &mut [Vec<T>],
    biases: &mut [Vec<T>],
    g: usize,
    b1: &mut [T],
    labels: &[u32],
    m: usize,
    decay: T,
    c: T,
    s: &mut Scratch<T>,
    coef: &mut [T],
) {
    let n_layers = sizes.len() - 1;
    let last = n_layers - 1;
    let n_out = sizes[n_layers];
    for i in 0..n_out {
        for k in 0..m {
            let y = if labels[k] as usize == i {
                T::ONE
            } else {
                T::ZERO
            };
            s.delta[last][i * m + k] = cost.output_delta(s.act[last][i * m + k], y);
        }
    }
    for l in (1..n_layers).rev() {
        let (n_in, n_out) = (sizes[l], sizes[l + 1]);
        let w = &weights[l - 1][range(sizes, l, g, true)];
        let (lower, upper) = s.delta.split_at_mut(l);
        let (d_in, d_out) = (&mut lower[l - 1][..n_in * m], &upper[0][..n_out * m]);
        d_in.fill(T::ZERO);
        for i in 0..n_out {
            for j in 0..n_in {
                let wij = w[i * n_in + j];
                for k in 0..m {
                    d_in[j * m + k] += wij * d_out[i * m + k];
                }
            }
        }
        let a = &s.act[l - 1];
        for (d, &a) in d_in.iter_mut().zip(&a[..n_in * m]) {
            *d = *d * (a * (T::ONE - a));
        }
    }
    for l in 1..n_layers {
        let (n_in, n_out) = (sizes[l], sizes[l + 1]);
        let (d, a) = (&s.delta[l], &s.act[l - 1]);
        let w = &mut weights[l - 1][range(sizes, l, g, true)];
        let b = &mut biases[l - 1][range(sizes, l, g, false)];
        for i in 0..n_out {
            let d_row = &d[i * m..(i + 1) * m];
            for j in 0..n_in {
                let a_row = &a[j * m..(j + 1) * m];
                let mut g = T::ZERO;
                for k in 0..m {
                    g += d_row[k] * a_row[k];
                }
                w[i * n_in + j] = decay * w[i * n_in + j] - c * g;
            }
            b[i] -= c * sum(d_row);
        }
    }
    let h1 = sizes[1];
    for r in 0..h1 {
        let d_row = &s.delta[0][r * m..(r + 1) * m];
        b1[r] -= c * sum(d_row);
        for k in 0..m {
            coef[r * m + k] = -c * d_row[k];
        }
    }
}

#[inline(always)]
fn sum<T: Float>(v: &[T]) -> T {
    v.iter().fold(T::ZERO, |acc, &x| acc + x)
}

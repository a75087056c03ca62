//! Layer-1 kernels: the hot path of a sweep.
//!
//! Layer 1 holds ~99% of the arithmetic of the book's network (784·30 of its 23,820 weights)
//! and its inner dimension per step is the mini-batch size m (10): a generic GEMM wastes most
//! of its time packing panels for such shapes. So the kernels are written for exactly this
//! problem: per tile of R weight rows kept in registers, the rank-m update with weight decay,
//! then (while the tile is still in L1) the dot products with the *next* mini-batch's samples,
//! S samples at a time. Vectors are plain `[T; L]` arrays with `L·size_of::<T>() = 64` bytes;
//! LLVM turns each into one AVX-512 register (or two AVX2 ones). We chose this over a GEMM
//! crate (`gemm`, `matrixmultiply`) after measuring: see benches/ and the README.
//!
//! Determinism: every output's arithmetic is a fixed sequence of fused multiply-adds over
//! L-lane partial sums, reduced in a fixed tree. Tile sizes, ISA and threads only change
//! which registers hold the numbers, never the numbers.

// Index loops here mirror the maths (rows i, columns j, samples k).
#![allow(clippy::needless_range_loop)]

use super::float::Float;

/// Row strides of layer-1 weights and of samples are padded to this many elements
/// (64 bytes of f32, 128 of f64) so every row is whole vectors. Padding holds zeros forever:
/// its gradient is zero and decay keeps zero at zero.
pub const STRIDE_ALIGN: usize = 16;

/// Round `n` up to a multiple of [`STRIDE_ALIGN`].
pub fn padded_len(n: usize) -> usize {
    n.div_ceil(STRIDE_ALIGN) * STRIDE_ALIGN
}

/// Which instruction set the kernels were compiled for, detected once at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2,
    /// Whatever the build target guarantees (SSE2 on x86-64, NEON on aarch64).
    Baseline,
}

impl Isa {
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Baseline => "baseline",
        }
    }
}

/// Rows of weights per register tile, and samples per tile of the dot products.
const ROW_TILE: usize = 4;
const SAMPLE_TILE: usize = 4;

/// Sum of the lanes in a fixed pairwise order.
#[inline(always)]
fn reduce_lanes<T: Float, const L: usize>(mut v: [T; L]) -> T {
    let mut width = L;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            v[i] += v[i + width];
        }
    }
    v[0]
}

/// `w_r ← decay·w_r + Σ_k coef[r·m + k]·x_k` for the R rows of one tile.
#[inline(always)]
fn update_tile<T: Float, const L: usize, const R: usize>(
    w: &mut [[T; L]],
    nc: usize,
    decay: T,
    coef: &[T],
    x: &[[T; L]],
    m: usize,
) {
    for c in 0..nc {
        let mut acc = [[T::ZERO; L]; R];
        for r in 0..R {
            let v = &w[r * nc + c];
            for l in 0..L {
                acc[r][l] = v[l] * decay;
            }
        }
        for k in 0..m {
            let xk = &x[k * nc + c];
            for r in 0..R {
                let a = coef[r * m + k];
                for l in 0..L {
                    acc[r][l] = a.mul_add(xk[l], acc[r][l]);
                }
            }
        }
        for r in 0..R {
            w[r * nc + c] = acc[r];
        }
    }
}

/// `z[r·n + s] = w_r · x_s` for the R×S block of rows and samples starting at (0, s0).
#[inline(always)]
fn dot_tile<T: Float, const L: usize, const R: usize, const S: usize>(
    w: &[[T; L]],
    x: &[[T; L]],
    nc: usize,
    s0: usize,
    z: &mut [T],
    n: usize,
) {
    let mut acc = [[[T::ZERO; L]; S]; R];
    for c in 0..nc {
        for s in 0..S {
            let xv = &x[(s0 + s) * nc + c];
            for r in 0..R {
                let wv = &w[r * nc + c];
                for l in 0..L {
                    acc[r][s][l] = wv[l].mul_add(xv[l], acc[r][s][l]);
                }
            }
        }
    }
    for r in 0..R {
        for s in 0..S {
            z[r * n + s0 + s] = reduce_lanes(acc[r][s]);
        }
    }
}

/// Dot products of R rows with all `n` samples, S samples at a time.
#[inline(always)]
fn dot_rows<T: Float, const L: usize, const R: usize>(
    w: &[[T; L]],
    x: &[[T; L]],
    nc: usize,
    z: &mut [T],
    n: usize,
) {
    let mut s0 = 0;
    while s0 + SAMPLE_TILE <= n {
        dot_tile::<T, L, R, SAMPLE_TILE>(w, x, nc, s0, z, n);
        s0 += SAMPLE_TILE;
    }
    match n - s0 {
        1 => dot_tile::<T, L, R, 1>(w, x, nc, s0, z, n),
        2 => dot_tile::<T, L, R, 2>(w, x, nc, s0, z, n),
        3 => dot_tile::<T, L, R, 3>(w, x, nc, s0, z, n),
        _ => {}
    }
}

/// One row tile of [`update_then_dot`]: update, then the dots while the tile is hot.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_then_dot_tile<T: Float, const L: usize, const R: usize>(
    w: &mut [[T; L]],
    nc: usize,
    decay: T,
    coef: &[T],
    x: &[[T; L]],
    m: usize,
    next: &[[T; L]],
    z: &mut [T],
) {
    update_tile::<T, L, R>(w, nc, decay, coef, x, m);
    let n = next.len() / nc;
    if n > 0 {
        dot_rows::<T, L, R>(w, next, nc, z, n);
    }
}

/// Dispatch over tiles of rows: `$body!(R, row0, rows_in_tile)` for full tiles, then the tail.
macro_rules! for_row_tiles {
    ($rows:expr, |$r:ident, $r0:ident| $body:expr) => {{
        let rows = $rows;
        let mut $r0 = 0;
        while $r0 + ROW_TILE <= rows {
            {
                const $r: usize = ROW_TILE;
                $body;
            }
            $r0 += ROW_TILE;
        }
        match rows - $r0 {
            1 => {
                const $r: usize = 1;
                $body
            }
            2 => {
                const $r: usize = 2;
                $body
            }
            3 => {
                const $r: usize = 3;
                $body
            }
            _ => {}
        }
    }};
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_then_dot_impl<T: Float, const L: usize>(
    w: &mut [T],
    stride: usize,
    decay: T,
    coef: &[T],
    x: &[T],
    m: usize,
    next: &[T],
    z: &mut [T],
) {
    let nc = stride / L;
    let (w, _) = w.as_chunks_mut::<L>();
    let (x, _) = x.as_chunks::<L>();
    let (next, _) = next.as_chunks::<L>();
    let n = next.len() / nc;
    for_row_tiles!(w.len() / nc, |R, r0| update_then_dot_tile::<T, L, R>(
        &mut w[r0 * nc..(r0 + R) * nc],
        nc,
        decay,
        &coef[r0 * m..(r0 + R) * m],
        x,
        m,
        next,
        &mut z[r0 * n..(r0 + R) * n],
    ));
}

#[inline(always)]
fn dot_impl<T: Float, const L: usize>(w: &[T], stride: usize, x: &[T], z: &mut [T]) {
    let nc = stride / L;
    let (w, _) = w.as_chunks::<L>();
    let (x, _) = x.as_chunks::<L>();
    let n = x.len() / nc;
    for_row_tiles!(w.len() / nc, |R, r0| dot_rows::<T, L, R>(
        &w[r0 * nc..(r0 + R) * nc],
        x,
        nc,
        &mut z[r0 * n..(r0 + R) * n],
        n,
    ));
}

/// The layer-1 kernels for one element type, compiled once per [`Isa`].
pub trait Kernels: Float {
    /// For every row `w_r` of `w` (rows × `stride`, row-major):
    /// `w_r ← decay·w_r + Σ_k coef[r·m + k]·x_k` over the m samples of `x` (m × `stride`),
    /// then `z[r·n + s] = w_r · next_s` for the n samples of `next` (n may be 0).
    #[allow(clippy::too_many_arguments)]
    fn update_then_dot(
        isa: Isa,
        w: &mut [Self],
        stride: usize,
        decay: Self,
        coef: &[Self],
        x: &[Self],
        m: usize,
        next: &[Self],
        z: &mut [Self],
    );

    /// `z[r·n + s] = w_r · x_s` for every row of `w` and every sample of `x`.
    fn dot(isa: Isa, w: &[Self], stride: usize, x: &[Self], z: &mut [Self]);
}

macro_rules! impl_kernels {
    ($t:ty, $lanes:literal, $mod:ident) => {
        mod $mod {
            use super::*;

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            pub fn update_then_dot_avx512(
                w: &mut [$t],
                stride: usize,
                decay: $t,
                coef: &[$t],
                x: &[$t],
                m: usize,
                next: &[$t],
                z: &mut [$t],
            ) {
                update_then_dot_impl::<$t, $lanes>(w, stride, decay, coef, x, m, next, z)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            pub fn update_then_dot_avx2(
                w: &mut [$t],
                stride: usize,
                decay: $t,
                coef: &[$t],
                x: &[$t],
                m: usize,
                next: &[$t],
                z: &mut [$t],
            ) {
                update_then_dot_impl::<$t, $lanes>(w, stride, decay, coef, x, m, next, z)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
            pub fn dot_avx512(w: &[$t], stride: usize, x: &[$t], z: &mut [$t]) {
                dot_impl::<$t, $lanes>(w, stride, x, z)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            pub fn dot_avx2(w: &[$t], stride: usize, x: &[$t], z: &mut [$t]) {
                dot_impl::<$t, $lanes>(w, stride, x, z)
            }
        }

        impl Kernels for $t {
            #[allow(clippy::too_many_arguments)]
            fn update_then_dot(
                isa: Isa,
                w: &mut [$t],
                stride: usize,
                decay: $t,
                coef: &[$t],
                x: &[$t],
                m: usize,
                next: &[$t],
                z: &mut [$t],
            ) {
                debug_assert_eq!(stride % $lanes, 0);
                match isa {
                    // SAFETY: `Isa::detect` returned this variant only after
                    // `is_x86_feature_detected!` confirmed every feature the function enables.
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx512 => unsafe {
                        $mod::update_then_dot_avx512(w, stride, decay, coef, x, m, next, z)
                    },
                    // SAFETY: as above, for avx2 and fma.
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx2 => unsafe {
                        $mod::update_then_dot_avx2(w, stride, decay, coef, x, m, next, z)
                    },
                    _ => update_then_dot_impl::<$t, $lanes>(w, stride, decay, coef, x, m, next, z),
                }
            }

            fn dot(isa: Isa, w: &[$t], stride: usize, x: &[$t], z: &mut [$t]) {
                debug_assert_eq!(stride % $lanes, 0);
                match isa {
                    // SAFETY: see `update_then_dot`.
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx512 => unsafe { $mod::dot_avx512(w, stride, x, z) },
                    // SAFETY: see `update_then_dot`.
                    #[cfg(target_arch = "x86_64")]
                    Isa::Avx2 => unsafe { $mod::dot_avx2(w, stride, x, z) },
                    _ => dot_impl::<$t, $lanes>(w, stride, x, z),
                }
            }
        }
    };
}

impl_kernels!(f32, 16, kernels_f32);
impl_kernels!(f64, 8, kernels_f64);

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator for test data (xorshift).
    fn values<T: Float>(n: usize, seed: u64) -> Vec<T> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                T::from_f64((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
            })
            .collect()
    }

    fn naive_dot(w: &[f64], stride: usize, x: &[f64]) -> Vec<f64> {
        let rows = w.len() / stride;
        let n = x.len() / stride;
        let mut z = vec![0.0; rows * n];
        for r in 0..rows {
            for s in 0..n {
                z[r * n + s] = (0..stride)
                    .map(|j| w[r * stride + j] * x[s * stride + j])
                    .sum();
            }
        }
        z
    }

    fn all_isas() -> Vec<Isa> {
        let mut isas = vec![Isa::Baseline];
        let detected = Isa::detect();
        if detected != Isa::Baseline {
            isas.push(Isa::Avx2);
        }
        if detected == Isa::Avx512 {
            isas.push(Isa::Avx512);
        }
        isas
    }

    #[test]
    fn dot_matches_naive_for_every_tile_shape() {
        let stride = 48;
        for rows in 1..=9 {
            for n in 0..=9 {
                let w = values::<f64>(rows * stride, 1);
                let x = values::<f64>(n * stride, 2);
                let want = naive_dot(&w, stride, &x);
                for isa in all_isas() {
                    let mut z = vec![f64::NAN; rows * n];
                    f64::dot(isa, &w, stride, &x, &mut z);
                    for (a, b) in z.iter().zip(&want) {
                        assert!(
                            (a - b).abs() < 1e-13,
                            "rows={rows} n={n} {isa:?}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn update_then_dot_matches_naive() {
        let stride = 32;
        let (rows, m, n) = (7, 5, 6);
        let w0 = values::<f64>(rows * stride, 3);
        let coef = values::<f64>(rows * m, 4);
        let x = values::<f64>(m * stride, 5);
        let next = values::<f64>(n * stride, 6);
        let decay = 0.99;
        let mut want_w = w0.clone();
        for r in 0..rows {
            for j in 0..stride {
                let g: f64 = (0..m).map(|k| coef[r * m + k] * x[k * stride + j]).sum();
                want_w[r * stride + j] = decay * w0[r * stride + j] + g;
            }
        }
        let want_z = naive_dot(&want_w, stride, &next);
        for isa in all_isas() {
            let mut w = w0.clone();
            let mut z = vec![f64::NAN; rows * n];
            f64::update_then_dot(isa, &mut w, stride, decay, &coef, &x, m, &next, &mut z);
            for (a, b) in w.iter().zip(&want_w) {
                assert!((a - b).abs() < 1e-14, "{isa:?}");
            }
            for (a, b) in z.iter().zip(&want_z) {
                assert!((a - b).abs() < 1e-13, "{isa:?}");
            }
        }
    }

    #[test]
    fn results_are_identical_across_isas() {
        let stride = 784usize.div_ceil(STRIDE_ALIGN) * STRIDE_ALIGN;
        let (rows, m) = (30, 10);
        let w0 = values::<f32>(rows * stride, 7);
        let coef = values::<f32>(rows * m, 8);
        let x = values::<f32>(m * stride, 9);
        let next = values::<f32>(m * stride, 10);
        let mut outputs = Vec::new();
        for isa in all_isas() {
            let mut w = w0.clone();
            let mut z = vec![0.0f32; rows * m];
            f32::update_then_dot(isa, &mut w, stride, 0.999, &coef, &x, m, &next, &mut z);
            outputs.push((w, z));
        }
        for o in &outputs[1..] {
            assert_eq!(o.0, outputs[0].0);
            assert_eq!(o.1, outputs[0].1);
        }
    }
}

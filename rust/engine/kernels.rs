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

use std::marker::PhantomData;

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

    /// Every instruction set this CPU can run, [`Isa::detect`]'s choice last.
    pub fn supported() -> Vec<Isa> {
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

    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Baseline => "baseline",
        }
    }
}

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

/// One 64-byte vector of `L` lanes: the unit of the kernels' arithmetic.
///
/// Every implementation computes lane by lane exactly what the plain-array one does (one
/// rounding per multiply-add, the same reduction tree), so the ISA never changes a result.
/// The SIMD types exist because LLVM keeps a few dozen of them in registers, where it spills
/// arrays of scalars of the same size.
trait Vector<T: Float, const L: usize>: Copy {
    fn zero() -> Self;
    fn load(v: &[T; L]) -> Self;
    fn to_array(self) -> [T; L];
    /// `self · a`
    fn scale(self, a: T) -> Self;
    /// `a · x + acc`, one rounding.
    fn mul_add_scalar(a: T, x: Self, acc: Self) -> Self;
    /// `w · x + acc`, one rounding.
    fn mul_add(w: Self, x: Self, acc: Self) -> Self;
    fn sum(self) -> T {
        reduce_lanes(self.to_array())
    }
}

impl<T: Float, const L: usize> Vector<T, L> for [T; L] {
    #[inline(always)]
    fn zero() -> Self {
        [T::ZERO; L]
    }
    #[inline(always)]
    fn load(v: &[T; L]) -> Self {
        *v
    }
    #[inline(always)]
    fn to_array(self) -> [T; L] {
        self
    }
    #[inline(always)]
    fn scale(mut self, a: T) -> Self {
        for v in &mut self {
            *v = *v * a;
        }
        self
    }
    #[inline(always)]
    fn mul_add_scalar(a: T, x: Self, mut acc: Self) -> Self {
        for l in 0..L {
            acc[l] = a.mul_add(x[l], acc[l]);
        }
        acc
    }
    #[inline(always)]
    fn mul_add(w: Self, x: Self, mut acc: Self) -> Self {
        for l in 0..L {
            acc[l] = w[l].mul_add(x[l], acc[l]);
        }
        acc
    }
}

/// x86-64 vectors. SAFETY (for every `unsafe` block in this module): these types are private
/// to this file and used only by the kernels instantiated in the `#[target_feature]`
/// functions of `impl_kernels!`, which are called only after `Isa::detect` confirmed the
/// features at run time; `#[inline(always)]` puts the instructions into those functions.
/// Loads and stores go through `&[T; L]` / `[T; L]`, valid for exactly one vector, with
/// unaligned intrinsics.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Vector;
    use std::arch::x86_64::*;

    /// One vector as one AVX-512 register.
    macro_rules! one_register {
        ($name:ident, $t:ty, $lanes:literal, $v:ty, $zero:ident, $load:ident, $store:ident,
         $mul:ident, $splat:ident, $fma:ident) => {
            #[derive(Clone, Copy)]
            pub struct $name($v);

            impl Vector<$t, $lanes> for $name {
                #[inline(always)]
                fn zero() -> Self {
                    unsafe { $name($zero()) }
                }
                #[inline(always)]
                fn load(v: &[$t; $lanes]) -> Self {
                    unsafe { $name($load(v.as_ptr())) }
                }
                #[inline(always)]
                fn to_array(self) -> [$t; $lanes] {
                    let mut out = [0.0; $lanes];
                    unsafe { $store(out.as_mut_ptr(), self.0) };
                    out
                }
                #[inline(always)]
                fn scale(self, a: $t) -> Self {
                    unsafe { $name($mul(self.0, $splat(a))) }
                }
                #[inline(always)]
                fn mul_add_scalar(a: $t, x: Self, acc: Self) -> Self {
                    unsafe { $name($fma($splat(a), x.0, acc.0)) }
                }
                #[inline(always)]
                fn mul_add(w: Self, x: Self, acc: Self) -> Self {
                    unsafe { $name($fma(w.0, x.0, acc.0)) }
                }
            }
        };
    }

    /// One vector as two AVX2 registers (the low and the high half of the lanes).
    macro_rules! two_registers {
        ($name:ident, $t:ty, $lanes:literal, $half:literal, $v:ty, $zero:ident, $load:ident,
         $store:ident, $mul:ident, $splat:ident, $fma:ident) => {
            #[derive(Clone, Copy)]
            pub struct $name($v, $v);

            impl Vector<$t, $lanes> for $name {
                #[inline(always)]
                fn zero() -> Self {
                    unsafe { $name($zero(), $zero()) }
                }
                #[inline(always)]
                fn load(v: &[$t; $lanes]) -> Self {
                    unsafe { $name($load(v.as_ptr()), $load(v.as_ptr().add($half))) }
                }
                #[inline(always)]
                fn to_array(self) -> [$t; $lanes] {
                    let mut out = [0.0; $lanes];
                    unsafe {
                        $store(out.as_mut_ptr(), self.0);
                        $store(out.as_mut_ptr().add($half), self.1);
                    }
                    out
                }
                #[inline(always)]
                fn scale(self, a: $t) -> Self {
                    unsafe {
                        let a = $splat(a);
                        $name($mul(self.0, a), $mul(self.1, a))
                    }
                }
                #[inline(always)]
                fn mul_add_scalar(a: $t, x: Self, acc: Self) -> Self {
                    unsafe {
                        let a = $splat(a);
                        $name($fma(a, x.0, acc.0), $fma(a, x.1, acc.1))
                    }
                }
                #[inline(always)]
                fn mul_add(w: Self, x: Self, acc: Self) -> Self {
                    unsafe { $name($fma(w.0, x.0, acc.0), $fma(w.1, x.1, acc.1)) }
                }
            }
        };
    }

    #[rustfmt::skip]
    one_register!(F32x16, f32, 16, __m512, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps,
                  _mm512_mul_ps, _mm512_set1_ps, _mm512_fmadd_ps);
    #[rustfmt::skip]
    one_register!(F64x8, f64, 8, __m512d, _mm512_setzero_pd, _mm512_loadu_pd, _mm512_storeu_pd,
                  _mm512_mul_pd, _mm512_set1_pd, _mm512_fmadd_pd);
    #[rustfmt::skip]
    two_registers!(F32x8x2, f32, 16, 8, __m256, _mm256_setzero_ps, _mm256_loadu_ps,
                   _mm256_storeu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_fmadd_ps);
    #[rustfmt::skip]
    two_registers!(F64x4x2, f64, 8, 4, __m256d, _mm256_setzero_pd, _mm256_loadu_pd,
                   _mm256_storeu_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_fmadd_pd);
}

/// How a kernel is compiled for one ISA: its vector type and register tiles (rows of weights
/// per tile, samples per tile of the dot products, vectors per row in a block of the update;
/// at most 8 rows and 4 samples, the tail dispatch covers remainders). Plans change speed
/// only, never results.
struct Plan<V, const ROWS: usize, const SAMPLES: usize, const COLS: usize>(PhantomData<V>);

impl<V, const ROWS: usize, const SAMPLES: usize, const COLS: usize> Plan<V, ROWS, SAMPLES, COLS> {
    const NEW: Self = Plan(PhantomData);
}

/// `w_r ← decay·w_r + Σ_k coef[r·m + k]·x_k` on a block of R rows × CB vectors starting at
/// vector `c0`: R·CB independent accumulators, so the m-long chains of dependent
/// multiply-adds overlap and each loaded `x` vector feeds R of them.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_block<T: Float, const L: usize, const R: usize, const CB: usize, V: Vector<T, L>>(
    w: &mut [[T; L]],
    nc: usize,
    c0: usize,
    decay: T,
    coef: &[T],
    x: &[[T; L]],
    m: usize,
) {
    // Plain loops, not `array::from_fn`: its closures are not always inlined, and would then
    // run outside the `#[target_feature]` function. Slices of known length let LLVM drop the
    // bounds checks from the inner loop.
    let mut coef_rows: [&[T]; R] = [&[]; R];
    let mut acc = [[V::zero(); CB]; R];
    for r in 0..R {
        coef_rows[r] = &coef[r * m..(r + 1) * m];
        for b in 0..CB {
            acc[r][b] = V::load(&w[r * nc + c0 + b]).scale(decay);
        }
    }
    for k in 0..m {
        let xk = &x[k * nc + c0..k * nc + c0 + CB];
        let mut xv = [V::zero(); CB];
        for b in 0..CB {
            xv[b] = V::load(&xk[b]);
        }
        for r in 0..R {
            let a = coef_rows[r][k];
            for b in 0..CB {
                acc[r][b] = V::mul_add_scalar(a, xv[b], acc[r][b]);
            }
        }
    }
    for r in 0..R {
        for b in 0..CB {
            w[r * nc + c0 + b] = acc[r][b].to_array();
        }
    }
}

/// The rank-m update with decay for the R rows of one tile, CB vectors at a time.
#[inline(always)]
fn update_tile<T: Float, const L: usize, const R: usize, const CB: usize, V: Vector<T, L>>(
    w: &mut [[T; L]],
    nc: usize,
    decay: T,
    coef: &[T],
    x: &[[T; L]],
    m: usize,
) {
    let mut c0 = 0;
    while c0 + CB <= nc {
        update_block::<T, L, R, CB, V>(w, nc, c0, decay, coef, x, m);
        c0 += CB;
    }
    while c0 < nc {
        update_block::<T, L, R, 1, V>(w, nc, c0, decay, coef, x, m);
        c0 += 1;
    }
}

/// `z[r·n + s] = w_r · x_s` for the R×S block of rows and samples starting at (0, s0).
#[inline(always)]
fn dot_tile<T: Float, const L: usize, const R: usize, const S: usize, V: Vector<T, L>>(
    w: &[[T; L]],
    x: &[[T; L]],
    nc: usize,
    s0: usize,
    z: &mut [T],
    n: usize,
) {
    // Plain loops and slices of known length: see `update_block`.
    let mut w_rows: [&[[T; L]]; R] = [&[]; R];
    for r in 0..R {
        w_rows[r] = &w[r * nc..(r + 1) * nc];
    }
    let mut x_rows: [&[[T; L]]; S] = [&[]; S];
    for s in 0..S {
        x_rows[s] = &x[(s0 + s) * nc..(s0 + s + 1) * nc];
    }
    let mut acc = [[V::zero(); S]; R];
    for c in 0..nc {
        let mut xv = [V::zero(); S];
        for s in 0..S {
            xv[s] = V::load(&x_rows[s][c]);
        }
        for r in 0..R {
            let wv = V::load(&w_rows[r][c]);
            for s in 0..S {
                acc[r][s] = V::mul_add(wv, xv[s], acc[r][s]);
            }
        }
    }
    for r in 0..R {
        for s in 0..S {
            z[r * n + s0 + s] = acc[r][s].sum();
        }
    }
}

/// Dot products of R rows with all `n` samples, ST samples at a time.
#[inline(always)]
fn dot_rows<T: Float, const L: usize, const R: usize, const ST: usize, V: Vector<T, L>>(
    w: &[[T; L]],
    x: &[[T; L]],
    nc: usize,
    z: &mut [T],
    n: usize,
) {
    let mut s0 = 0;
    while s0 + ST <= n {
        dot_tile::<T, L, R, ST, V>(w, x, nc, s0, z, n);
        s0 += ST;
    }
    match n - s0 {
        1 => dot_tile::<T, L, R, 1, V>(w, x, nc, s0, z, n),
        2 => dot_tile::<T, L, R, 2, V>(w, x, nc, s0, z, n),
        3 => dot_tile::<T, L, R, 3, V>(w, x, nc, s0, z, n),
        _ => {}
    }
}

/// One row tile of [`update_then_dot_impl`]: update, then the dots while the tile is hot.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_then_dot_tile<
    T: Float,
    const L: usize,
    const R: usize,
    const ST: usize,
    const CB: usize,
    V: Vector<T, L>,
>(
    r0: usize,
    w: &mut [[T; L]],
    nc: usize,
    decay: T,
    coef: &[T],
    x: &[[T; L]],
    m: usize,
    next: &[[T; L]],
    z: &mut [T],
) {
    let w = &mut w[r0 * nc..(r0 + R) * nc];
    update_tile::<T, L, R, CB, V>(w, nc, decay, &coef[r0 * m..(r0 + R) * m], x, m);
    let n = next.len() / nc;
    if n > 0 {
        dot_rows::<T, L, R, ST, V>(w, next, nc, &mut z[r0 * n..(r0 + R) * n], n);
    }
}

/// One row tile of [`dot_impl`].
#[inline(always)]
fn dot_row_tile<T: Float, const L: usize, const R: usize, const ST: usize, V: Vector<T, L>>(
    r0: usize,
    w: &[[T; L]],
    x: &[[T; L]],
    nc: usize,
    z: &mut [T],
    n: usize,
) {
    let (w, z) = (&w[r0 * nc..(r0 + R) * nc], &mut z[r0 * n..(r0 + R) * n]);
    dot_rows::<T, L, R, ST, V>(w, x, nc, z, n);
}

/// Call `$f::<T, L, R, …>(r0, args…)` for every tile of rows: full tiles of `$tile` rows, then
/// the remainder (fewer than 8 rows).
macro_rules! for_row_tiles {
    ($rows:expr, $tile:ident, $f:ident::<$t:ty, $l:ident, $($g:ident),*>($($arg:expr),*)) => {{
        let rows = $rows;
        let mut r0 = 0;
        while r0 + $tile <= rows {
            $f::<$t, $l, $tile, $($g),*>(r0, $($arg),*);
            r0 += $tile;
        }
        match rows - r0 {
            1 => $f::<$t, $l, 1, $($g),*>(r0, $($arg),*),
            2 => $f::<$t, $l, 2, $($g),*>(r0, $($arg),*),
            3 => $f::<$t, $l, 3, $($g),*>(r0, $($arg),*),
            4 => $f::<$t, $l, 4, $($g),*>(r0, $($arg),*),
            5 => $f::<$t, $l, 5, $($g),*>(r0, $($arg),*),
            6 => $f::<$t, $l, 6, $($g),*>(r0, $($arg),*),
            7 => $f::<$t, $l, 7, $($g),*>(r0, $($arg),*),
            _ => {}
        }
    }};
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_then_dot_impl<
    T: Float,
    const L: usize,
    V: Vector<T, L>,
    const RT: usize,
    const ST: usize,
    const CB: usize,
>(
    _plan: Plan<V, RT, ST, CB>,
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
    for_row_tiles!(
        w.len() / nc,
        RT,
        update_then_dot_tile::<T, L, ST, CB, V>(&mut *w, nc, decay, coef, x, m, next, &mut *z)
    );
}

#[inline(always)]
fn dot_impl<
    T: Float,
    const L: usize,
    V: Vector<T, L>,
    const RT: usize,
    const ST: usize,
    const CB: usize,
>(
    _plan: Plan<V, RT, ST, CB>,
    w: &[T],
    stride: usize,
    x: &[T],
    z: &mut [T],
) {
    let nc = stride / L;
    let (w, _) = w.as_chunks::<L>();
    let (x, _) = x.as_chunks::<L>();
    let n = x.len() / nc;
    for_row_tiles!(
        w.len() / nc,
        RT,
        dot_row_tile::<T, L, ST, V>(w, x, nc, &mut *z, n)
    );
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
    ($t:ty, $lanes:literal, $mod:ident, $avx512:expr, $avx2:expr, $baseline:expr) => {
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
                update_then_dot_impl::<$t, $lanes, _, _, _, _>(
                    $avx512, w, stride, decay, coef, x, m, next, z,
                )
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
                update_then_dot_impl::<$t, $lanes, _, _, _, _>(
                    $avx2, w, stride, decay, coef, x, m, next, z,
                )
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
            pub fn dot_avx512(w: &[$t], stride: usize, x: &[$t], z: &mut [$t]) {
                dot_impl::<$t, $lanes, _, _, _, _>($avx512, w, stride, x, z)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            pub fn dot_avx2(w: &[$t], stride: usize, x: &[$t], z: &mut [$t]) {
                dot_impl::<$t, $lanes, _, _, _, _>($avx2, w, stride, x, z)
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
                    _ => update_then_dot_impl::<$t, $lanes, _, _, _, _>(
                        $baseline, w, stride, decay, coef, x, m, next, z,
                    ),
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
                    _ => dot_impl::<$t, $lanes, _, _, _, _>($baseline, w, stride, x, z),
                }
            }
        }
    };
}

impl_kernels!(
    f32,
    16,
    kernels_f32,
    Plan::<x86::F32x16, 8, 3, 3>::NEW,
    Plan::<x86::F32x8x2, 2, 2, 2>::NEW,
    Plan::<[f32; 16], 4, 4, 4>::NEW
);
impl_kernels!(
    f64,
    8,
    kernels_f64,
    Plan::<x86::F64x8, 8, 3, 3>::NEW,
    Plan::<x86::F64x4x2, 2, 2, 2>::NEW,
    Plan::<[f64; 8], 4, 4, 4>::NEW
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Test data in [−0.5, 0.5) as `T`.
    fn values<T: Float>(n: usize, seed: u64) -> Vec<T> {
        crate::engine::test_values(n, seed, 1.0)
            .into_iter()
            .map(T::from_f64)
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

    #[test]
    fn dot_matches_naive_for_every_tile_shape() {
        let stride = 48;
        for rows in 1..=9 {
            for n in 0..=9 {
                let w = values::<f64>(rows * stride, 1);
                let x = values::<f64>(n * stride, 2);
                let want = naive_dot(&w, stride, &x);
                for isa in Isa::supported() {
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
        for isa in Isa::supported() {
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
        for isa in Isa::supported() {
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

//! Layer-1 kernel micro-benchmark: `cargo bench --bench kernels`.
//!
//! Times one model's fused update + next-batch dot products ([784, 30, ...], m = 10) with
//! everything cache-resident, and reports the fraction of the FMA peak it reaches, taking
//! the peak as one 64-byte FMA per cycle at the clock given by `SGDFAST_GHZ` (default 3.7).

use std::hint::black_box;
use std::time::Instant;

use sgdfast::engine::kernels::{padded_len, Isa, Kernels};

fn run<T: Kernels>(isa: Isa, label: &str) {
    let (n_in, rows, m) = (784, 30, 10);
    let stride = padded_len(n_in);
    let mut w: Vec<T> = (0..rows * stride)
        .map(|i| T::from_f64((i % 7) as f64 * 0.01))
        .collect();
    let x: Vec<T> = (0..m * stride)
        .map(|i| T::from_f64((i % 5) as f64 * 0.1))
        .collect();
    let next = x.clone();
    let coef: Vec<T> = (0..rows * m)
        .map(|i| T::from_f64(-1e-6 * (i % 3) as f64))
        .collect();
    let mut z = vec![T::ZERO; rows * m];
    let reps = 20_000;
    for _ in 0..1000 {
        T::update_then_dot(isa, &mut w, stride, T::ONE, &coef, &x, m, &next, &mut z);
    }
    let start = Instant::now();
    for _ in 0..reps {
        T::update_then_dot(
            isa,
            black_box(&mut w),
            stride,
            T::ONE,
            &coef,
            &x,
            m,
            &next,
            &mut z,
        );
    }
    let per_call = start.elapsed().as_secs_f64() / reps as f64;
    let lanes = 64 / std::mem::size_of::<T>();
    let fmas = (rows * stride * (2 * m + 1)) as f64 / lanes as f64;
    let ghz: f64 = std::env::var("SGDFAST_GHZ")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.7);
    println!(
        "{label:>5} {:>8}: {:7.2} µs per model-step, {:5.1}% of FMA peak",
        isa.name(),
        per_call * 1e6,
        100.0 * fmas / (per_call * ghz * 1e9)
    );
}

fn main() {
    for isa in [Isa::detect(), Isa::Avx2, Isa::Baseline] {
        if isa == Isa::Avx2 && Isa::detect() == Isa::Baseline {
            continue;
        }
        run::<f32>(isa, "f32");
        run::<f64>(isa, "f64");
    }
}

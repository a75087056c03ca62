//! `sgdfast._core.cost_gradient` and `sgdfast._core.hessian_vector_product`: a thin PyO3
//! layer over [`crate::engine::hessian`] (used by `sgdfast.stability`).
//!
//! One model's parameters, the samples and the vectors are borrowed from numpy without
//! copying (float64, C-contiguous), the work runs with the GIL released, and results come
//! back as new numpy arrays. Bad input raises `TypeError` (wrong type or dtype) or
//! `ValueError` (wrong shape or values), each naming the argument.

use numpy::{
    IntoPyArray, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::bindings::{as_typed, local_pool};
use crate::engine::hessian::{n_params, Model, TrainingCost, TASK_SAMPLES};
use crate::engine::Cost;

/// Work per call into the engine: between calls the GIL is taken back to check for Ctrl-C.
const CHUNK_FLOPS: f64 = 2e9;
/// Bound on the per-task partial sums held at once while multiplying many vectors.
const CHUNK_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

fn check_shape<T: numpy::Element>(
    array: &PyReadonlyArrayDyn<'_, T>,
    name: &str,
    expected: &[usize],
) -> PyResult<()> {
    if array.shape() != expected {
        return Err(PyValueError::new_err(format!(
            "{name}: expected shape {}, got {}",
            py_shape(expected),
            py_shape(array.shape())
        )));
    }
    Ok(())
}

/// A shape as Python prints it: `(3, 4)`, `(5,)`.
fn py_shape(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

fn slice<'a, T: numpy::Element>(array: &'a PyReadonlyArrayDyn<'_, T>) -> PyResult<&'a [T]> {
    array
        .as_slice()
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The arguments every function here shares, borrowed and shape-checked.
struct Inputs<'py> {
    sizes: Vec<usize>,
    cost: Cost,
    weights: Vec<PyReadonlyArrayDyn<'py, f64>>,
    biases: Vec<PyReadonlyArrayDyn<'py, f64>>,
    x: PyReadonlyArrayDyn<'py, f64>,
    y: PyReadonlyArrayDyn<'py, i64>,
}

impl<'py> Inputs<'py> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        sizes: Vec<usize>,
        cost: &str,
        weights: &[Bound<'py, PyAny>],
        biases: &[Bound<'py, PyAny>],
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Self> {
        let cost = Cost::parse(cost).ok_or_else(|| {
            PyValueError::new_err(format!(
                "cost: unknown cost {cost:?}; expected 'cross_entropy' or 'quadratic'"
            ))
        })?;
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(PyValueError::new_err(format!(
                "sizes: need at least two layers of at least one unit each, got {sizes:?}"
            )));
        }
        let n_layers = sizes.len() - 1;
        for (name, arrays) in [("weights", weights), ("biases", biases)] {
            if arrays.len() != n_layers {
                return Err(PyValueError::new_err(format!(
                    "{name}: expected {n_layers} arrays (one per layer), got {}",
                    arrays.len()
                )));
            }
        }
        let weights = weights
            .iter()
            .zip(sizes.windows(2))
            .enumerate()
            .map(|(l, (w, s))| {
                let w = as_typed::<f64>(w, "weights")?;
                check_shape(&w, &format!("weights: layer {l}"), &[s[1], s[0]])?;
                Ok(w)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let biases = biases
            .iter()
            .zip(&sizes[1..])
            .enumerate()
            .map(|(l, (b, &n_out))| {
                let b = as_typed::<f64>(b, "biases")?;
                check_shape(&b, &format!("biases: layer {l}"), &[n_out])?;
                Ok(b)
            })
            .collect::<PyResult<Vec<_>>>()?;
        let y = as_typed::<i64>(y, "y")?;
        if y.ndim() != 1 {
            return Err(PyValueError::new_err(format!(
                "y: expected a 1-D array of labels, got shape {}",
                py_shape(y.shape())
            )));
        }
        let x = as_typed::<f64>(x, "X")?;
        check_shape(&x, "X", &[y.shape()[0], sizes[0]])?;
        Ok(Inputs {
            sizes,
            cost,
            weights,
            biases,
            x,
            y,
        })
    }

    fn training_cost(&self, lmbda: f64, n_train: Option<usize>) -> PyResult<TrainingCost<'_>> {
        let model = Model {
            sizes: &self.sizes,
            cost: self.cost,
            weights: self.weights.iter().map(slice).collect::<PyResult<_>>()?,
            biases: self.biases.iter().map(slice).collect::<PyResult<_>>()?,
        };
        Ok(TrainingCost::new(
            model,
            slice(&self.x)?,
            slice(&self.y)?,
            lmbda,
            n_train,
        )?)
    }
}

/// Run `f` on `pool` if there is one, else on rayon's global pool.
fn install<R: Send>(pool: Option<&rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// The total training cost C(θ) of one model (its L2 term included) and its gradient ∇C(θ),
/// flattened as θ = [W₁ (out×in, row-major), b₁, W₂, b₂, …].
#[pyfunction]
#[pyo3(signature = (sizes, cost, weights, biases, x, y, lmbda, *, n_train=None, n_threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn cost_gradient<'py>(
    py: Python<'py>,
    sizes: Vec<usize>,
    cost: &str,
    weights: Vec<Bound<'py, PyAny>>,
    biases: Vec<Bound<'py, PyAny>>,
    x: Bound<'py, PyAny>,
    y: Bound<'py, PyAny>,
    lmbda: f64,
    n_train: Option<usize>,
    n_threads: Option<usize>,
) -> PyResult<(f64, Bound<'py, PyArray1<f64>>)> {
    let inputs = Inputs::new(sizes, cost, &weights, &biases, &x, &y)?;
    let pool = local_pool(n_threads)?;
    let c = inputs.training_cost(lmbda, n_train)?;
    let (value, grad) = py.detach(|| install(pool.as_ref(), || c.value_and_gradient()));
    Ok((value, grad.into_pyarray(py)))
}

/// H·v for the Hessian H = ∇²C(θ) of the total training cost of one model (exact, by the
/// R-operator). `v` is one vector (P,) or k vectors (k, P) in θ's layout; the result has
/// `v`'s shape. Ctrl-C raises KeyboardInterrupt between chunks of vectors.
#[pyfunction]
#[pyo3(signature = (sizes, cost, weights, biases, x, y, lmbda, v, *, n_train=None, n_threads=None))]
#[allow(clippy::too_many_arguments)]
pub fn hessian_vector_product<'py>(
    py: Python<'py>,
    sizes: Vec<usize>,
    cost: &str,
    weights: Vec<Bound<'py, PyAny>>,
    biases: Vec<Bound<'py, PyAny>>,
    x: Bound<'py, PyAny>,
    y: Bound<'py, PyAny>,
    lmbda: f64,
    v: Bound<'py, PyAny>,
    n_train: Option<usize>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let inputs = Inputs::new(sizes, cost, &weights, &biases, &x, &y)?;
    let pool = local_pool(n_threads)?;
    let p = n_params(&inputs.sizes);
    let v = as_typed::<f64>(&v, "v")?;
    let shape = v.shape().to_vec();
    let k = match shape[..] {
        [n] if n == p => 1,
        [k, n] if n == p && k >= 1 => k,
        _ => {
            return Err(PyValueError::new_err(format!(
                "v: expected shape ({p},) or (k, {p}) with k >= 1 for {p} parameters, \
                 got {}",
                py_shape(&shape)
            )))
        }
    };
    let c = inputs.training_cost(lmbda, n_train)?;
    let vs = slice(&v)?;

    let n = c.n_samples() as f64;
    let flops_per_vector = 4.0 * n * (p as f64);
    let bytes_per_vector = 8.0 * (p as f64) * (n / TASK_SAMPLES as f64).ceil();
    let chunk =
        ((CHUNK_FLOPS / flops_per_vector).min(CHUNK_BYTES / bytes_per_vector) as usize).clamp(1, k);
    let mut hv = Vec::with_capacity(k * p);
    for part in vs.chunks(chunk * p) {
        let out = py.detach(|| install(pool.as_ref(), || c.hessian_vector_products(part)))?;
        hv.extend_from_slice(&out);
        py.check_signals()?;
    }
    hv.into_pyarray(py).reshape(shape)
}

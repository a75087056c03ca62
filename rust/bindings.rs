//! The `sgdfast._core` extension module: a thin PyO3 layer over [`crate::engine`].
//!
//! Arguments are borrowed from numpy without copying, the engine works with the GIL
//! released, and results come back as new numpy arrays. The Python package validates
//! arguments first and raises friendlier errors; what reaches here is re-checked by the
//! engine, whose errors become `ValueError`.

use numpy::{
    dtype, IntoPyArray, PyArray1, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods,
    PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;

use std::borrow::Cow;

use crate::engine::{padded_rows, Cost, Engine, InitialParams, InvalidArgument, Kernels, Spec};

impl From<InvalidArgument> for PyErr {
    fn from(e: InvalidArgument) -> PyErr {
        PyValueError::new_err(e.to_string())
    }
}

/// Floating-point work per chunk of an epoch: between chunks the GIL is taken back to
/// check for Ctrl-C, so a chunk should last well under a second.
const CHUNK_FLOPS: f64 = 2e9;

type CostAndCorrect<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<u64>>);

/// An engine and the rows of each of its data sets, by index.
enum AnyEngine {
    F32(Engine<f32>, Vec<Rows<f32>>),
    F64(Engine<f64>, Vec<Rows<f64>>),
}

/// Run `$body` with `$e` bound to the engine (and `$rows` to its data sets' rows),
/// whatever its element type.
macro_rules! with_engine {
    ($self:expr, $e:ident => $body:expr) => {
        match $self {
            AnyEngine::F32($e, _) => $body,
            AnyEngine::F64($e, _) => $body,
        }
    };
    ($self:expr, $e:ident, $rows:ident => $body:expr) => {
        match $self {
            AnyEngine::F32($e, $rows) => $body,
            AnyEngine::F64($e, $rows) => $body,
        }
    };
}

/// A data set's rows in the engine's layout, held for the engine's life: the caller's numpy
/// array itself when its rows already have the kernels' stride (MNIST's 784: no copy), else
/// a zero-padded copy.
enum Rows<T> {
    Shared(Py<PyArrayDyn<T>>),
    Padded(Vec<T>),
}

impl<T: Kernels + numpy::Element> Rows<T> {
    fn new(x: &Bound<'_, PyAny>, n_in: usize) -> PyResult<Self> {
        let typed = as_typed::<T>(x, "X")?;
        let rows = match padded_rows(typed.as_slice().map_err(not_contiguous)?, n_in) {
            Cow::Borrowed(_) => Rows::Shared((*typed).clone().unbind()),
            Cow::Owned(padded) => Rows::Padded(padded),
        };
        Ok(rows)
    }

    /// Lend the rows to `f`. A shared numpy array is borrowed read-only for the call, so no
    /// Rust code can write to it meanwhile (rust-numpy's borrow checking; Python code that
    /// writes to its own array during training is its author's to avoid).
    fn lend<R>(&self, py: Python<'_>, f: impl FnOnce(&[T]) -> PyResult<R>) -> PyResult<R> {
        match self {
            Rows::Shared(array) => {
                let borrowed = contiguous(array.bind(py), "X")?;
                f(borrowed.as_slice().map_err(not_contiguous)?)
            }
            Rows::Padded(rows) => f(rows),
        }
    }
}

/// K models of one architecture trained together: see `sgdfast.Trainer` for the
/// user-facing API.
#[pyclass(module = "sgdfast._core", name = "Engine")]
pub struct PyEngine {
    engine: AnyEngine,
    pool: Option<rayon::ThreadPool>,
}

fn contiguous<'py, T: numpy::Element>(
    array: &Bound<'py, PyArrayDyn<T>>,
    name: &str,
) -> PyResult<numpy::PyReadonlyArrayDyn<'py, T>> {
    let ro = array
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("{name}: {e}")))?;
    if !ro.is_c_contiguous() {
        return Err(PyValueError::new_err(format!(
            "{name}: must be C-contiguous"
        )));
    }
    Ok(ro)
}

/// Borrow `array` as a contiguous array of `T`, or explain why it is not one.
pub(crate) fn as_typed<'py, T: numpy::Element>(
    array: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<numpy::PyReadonlyArrayDyn<'py, T>> {
    let typed = array.cast::<PyArrayDyn<T>>().map_err(|_| {
        let found = array
            .cast::<PyUntypedArray>()
            .map(|a| format!("an array of {}", a.dtype()))
            .unwrap_or_else(|_| array.get_type().to_string());
        PyTypeError::new_err(format!(
            "{name}: expected a numpy array of {}, got {found}",
            dtype::<T>(array.py())
        ))
    })?;
    contiguous(typed, name)
}

#[allow(clippy::too_many_arguments)]
fn build<T: Kernels + numpy::Element>(
    py: Python<'_>,
    spec: Spec,
    weights: &[Bound<'_, PyAny>],
    biases: &[Bound<'_, PyAny>],
    eta: Vec<f64>,
    lmbda: Vec<f64>,
    x: &Bound<'_, PyAny>,
    y: &[i64],
    pool: Option<&rayon::ThreadPool>,
    group_size: Option<usize>,
) -> PyResult<(Engine<T>, Vec<Rows<T>>)> {
    let weights = weights
        .iter()
        .map(|w| as_typed::<T>(w, "weights"))
        .collect::<PyResult<Vec<_>>>()?;
    let biases = biases
        .iter()
        .map(|b| as_typed::<T>(b, "biases"))
        .collect::<PyResult<Vec<_>>>()?;
    let rows = Rows::<T>::new(x, spec.sizes.first().copied().unwrap_or(0))?;
    let params = InitialParams {
        weights: weights
            .iter()
            .map(|w| w.as_slice())
            .collect::<Result<Vec<_>, _>>()
            .map_err(not_contiguous)?,
        biases: biases
            .iter()
            .map(|b| b.as_slice())
            .collect::<Result<Vec<_>, _>>()
            .map_err(not_contiguous)?,
    };
    let threads = pool.map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
    let engine = rows.lend(py, |x| {
        Ok(py.detach(|| Engine::new(spec, params, eta, lmbda, x, y, threads, group_size))?)
    })?;
    Ok((engine, vec![rows]))
}

fn not_contiguous(e: numpy::AsSliceError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// `n_threads=None`: rayon's global pool (honours `RAYON_NUM_THREADS`); n: a local pool.
pub(crate) fn local_pool(n_threads: Option<usize>) -> PyResult<Option<rayon::ThreadPool>> {
    match n_threads {
        None => Ok(None),
        Some(0) => Err(PyValueError::new_err("n_threads: must be >= 1")),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(Some)
            .map_err(|e| PyValueError::new_err(format!("n_threads: {e}"))),
    }
}

impl PyEngine {
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }
}

fn params_to_py<'py, T: numpy::Element + Copy>(
    py: Python<'py>,
    values: Vec<Vec<T>>,
    shapes: Vec<Vec<usize>>,
) -> PyResult<Bound<'py, PyList>> {
    let arrays = values
        .into_iter()
        .zip(shapes)
        .map(|(v, shape)| v.into_pyarray(py).reshape(shape).map(|a| a.into_any()))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, arrays)
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (sizes, cost, batch_size, weights, biases, eta, lmbda, x, y, n_threads=None, group_size=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        sizes: Vec<usize>,
        cost: &str,
        batch_size: usize,
        weights: Vec<Bound<'_, PyAny>>,
        biases: Vec<Bound<'_, PyAny>>,
        eta: Vec<f64>,
        lmbda: Vec<f64>,
        x: Bound<'_, PyAny>,
        y: PyReadonlyArray1<'_, i64>,
        n_threads: Option<usize>,
        group_size: Option<usize>,
    ) -> PyResult<Self> {
        let cost = Cost::parse(cost).ok_or_else(|| {
            PyValueError::new_err(format!(
                "cost: unknown cost {cost:?}; expected 'cross_entropy' or 'quadratic'"
            ))
        })?;
        let pool = local_pool(n_threads)?;
        let spec = Spec {
            sizes,
            cost,
            batch_size,
        };
        let y = y.as_slice().map_err(not_contiguous)?;
        let x_dtype = x
            .cast::<PyUntypedArray>()
            .map_err(|_| PyTypeError::new_err("X: expected a numpy array"))?
            .dtype();
        let engine = if x_dtype.is_equiv_to(&dtype::<f32>(py)) {
            let (engine, rows) = build(
                py,
                spec,
                &weights,
                &biases,
                eta,
                lmbda,
                &x,
                y,
                pool.as_ref(),
                group_size,
            )?;
            AnyEngine::F32(engine, rows)
        } else if x_dtype.is_equiv_to(&dtype::<f64>(py)) {
            let (engine, rows) = build(
                py,
                spec,
                &weights,
                &biases,
                eta,
                lmbda,
                &x,
                y,
                pool.as_ref(),
                group_size,
            )?;
            AnyEngine::F64(engine, rows)
        } else {
            return Err(PyTypeError::new_err(format!(
                "X: dtype must be float32 or float64, got {x_dtype}"
            )));
        };
        Ok(PyEngine { engine, pool })
    }

    /// Store an evaluation data set; returns its index (the training set is 0).
    fn add_dataset(
        &mut self,
        py: Python<'_>,
        x: Bound<'_, PyAny>,
        y: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<usize> {
        let y = y.as_slice().map_err(not_contiguous)?;
        with_engine!(&mut self.engine, e, all_rows => {
            let rows = Rows::new(&x, e.sizes()[0])?;
            let index = rows.lend(py, |x| Ok(py.detach(|| e.add_dataset(x, y))?))?;
            all_rows.push(rows);
            Ok(index)
        })
    }

    /// One epoch: a step per mini-batch of `order` (sample indices), with the GIL released.
    /// Ctrl-C raises KeyboardInterrupt between chunks; the epoch is then partly done.
    fn train_epoch(&mut self, py: Python<'_>, order: PyReadonlyArray1<'_, i64>) -> PyResult<()> {
        let order = order.as_slice().map_err(not_contiguous)?;
        let pool = self.pool.as_ref();
        with_engine!(&mut self.engine, e, rows => {
            let order = e.epoch_order(order)?;
            let n = e.n_batches(&order);
            let per_batch = e.flops_per_model_sample() * (e.n_models() * e.batch_size()) as f64;
            let chunk = ((CHUNK_FLOPS / per_batch) as usize).clamp(1, n);
            rows[0].lend(py, |x| {
                let mut start = 0;
                while start < n {
                    let end = (start + chunk).min(n);
                    py.detach(|| match pool {
                        Some(pool) => pool.install(|| e.train_batches(x, &order, start..end)),
                        None => e.train_batches(x, &order, start..end),
                    })?;
                    py.check_signals()?;
                    start = end;
                }
                Ok(())
            })
        })
    }

    /// Per model: (sum of the cost over the samples of data set `dataset`, without the L2
    /// term; number classified correctly).
    fn evaluate<'py>(&self, py: Python<'py>, dataset: usize) -> PyResult<CostAndCorrect<'py>> {
        let (cost, correct) = with_engine!(&self.engine, e, rows => {
            e.check_dataset(dataset)?;
            rows[dataset].lend(py, |x| Ok(py.detach(|| self.install(|| e.evaluate(dataset, x)))?))?
        });
        Ok((cost.into_pyarray(py), correct.into_pyarray(py)))
    }

    /// Per model: the sum of squared weights (biases excluded).
    fn weight_sq_norms<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        with_engine!(&self.engine, e => e.weight_sq_norms()).into_pyarray(py)
    }

    /// Per model: whether every parameter is finite.
    fn finite<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        with_engine!(&self.engine, e => e.finite()).into_pyarray(py)
    }

    /// (weights, biases): lists with one array per layer, shapes (K, out, in) and (K, out).
    fn params<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        with_engine!(&self.engine, e => {
            let sizes = e.sizes().to_vec();
            let k = e.n_models();
            let (w, b) = e.params();
            let w_shapes = sizes.windows(2).map(|s| vec![k, s[1], s[0]]).collect();
            let b_shapes = sizes.windows(2).map(|s| vec![k, s[1]]).collect();
            Ok((params_to_py(py, w, w_shapes)?, params_to_py(py, b, b_shapes)?))
        })
    }

    fn set_eta(&mut self, eta: Vec<f64>) -> PyResult<()> {
        Ok(with_engine!(&mut self.engine, e => e.set_eta(eta))?)
    }

    fn set_lmbda(&mut self, lmbda: Vec<f64>) -> PyResult<()> {
        Ok(with_engine!(&mut self.engine, e => e.set_lmbda(lmbda))?)
    }

    fn set_active(&mut self, active: Vec<bool>) -> PyResult<()> {
        Ok(with_engine!(&mut self.engine, e => e.set_active(active))?)
    }

    #[getter]
    fn eta(&self) -> Vec<f64> {
        with_engine!(&self.engine, e => e.eta().to_vec())
    }

    #[getter]
    fn lmbda(&self) -> Vec<f64> {
        with_engine!(&self.engine, e => e.lmbda().to_vec())
    }

    #[getter]
    fn active(&self) -> Vec<bool> {
        with_engine!(&self.engine, e => e.active().to_vec())
    }

    #[getter]
    fn n_models(&self) -> usize {
        with_engine!(&self.engine, e => e.n_models())
    }

    #[getter]
    fn n_groups(&self) -> usize {
        with_engine!(&self.engine, e => e.n_groups())
    }

    #[getter]
    fn dtype(&self) -> &'static str {
        match self.engine {
            AnyEngine::F32(..) => "float32",
            AnyEngine::F64(..) => "float64",
        }
    }

    #[getter]
    fn isa(&self) -> &'static str {
        with_engine!(&self.engine, e => e.isa().name())
    }
}

/// The instruction set the kernels use on this machine: "avx512", "avx2" or "baseline".
#[pyfunction]
fn isa() -> &'static str {
    crate::engine::Isa::detect().name()
}

#[pymodule]
mod _core {
    #[pymodule_export]
    use super::{isa, PyEngine};
    #[pymodule_export]
    use crate::stability_bindings::{cost_gradient, hessian_vector_product};
}

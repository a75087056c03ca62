//! Engine tests: gradients against finite differences, grouping and thread invariance.

// Index loops here mirror the maths (rows i, columns j, samples k).
#![allow(clippy::needless_range_loop)]

use super::*;

#[derive(Clone)]
struct Problem {
    sizes: Vec<usize>,
    weights: Vec<Vec<f64>>,
    biases: Vec<Vec<f64>>,
    x: Vec<f64>,
    y: Vec<i64>,
}

impl Problem {
    /// The samples in the engine's layout.
    fn rows(&self) -> Vec<f64> {
        padded_rows(&self.x, self.sizes[0]).into_owned()
    }

    fn new(sizes: &[usize], n_models: usize, n: usize) -> Self {
        let layers = sizes.windows(2);
        Problem {
            sizes: sizes.to_vec(),
            weights: layers
                .clone()
                .enumerate()
                .map(|(l, w)| test_values(n_models * w[0] * w[1], 10 + l as u64, 2.0))
                .collect(),
            biases: layers
                .enumerate()
                .map(|(l, w)| test_values(n_models * w[1], 20 + l as u64, 2.0))
                .collect(),
            x: test_values(n * sizes[0], 1, 2.0)
                .iter()
                .map(|v| v + 0.5)
                .collect(),
            y: (0..n)
                .map(|i| (i * 7 % sizes[sizes.len() - 1]) as i64)
                .collect(),
        }
    }

    fn engine(
        &self,
        cost: Cost,
        batch: usize,
        eta: f64,
        lmbda: f64,
        group: Option<usize>,
    ) -> Engine<f64> {
        let n_models = self.biases[0].len() / self.sizes[1];
        Engine::new(
            Spec {
                sizes: self.sizes.clone(),
                cost,
                batch_size: batch,
            },
            InitialParams {
                weights: self.weights.iter().map(Vec::as_slice).collect(),
                biases: self.biases.iter().map(Vec::as_slice).collect(),
            },
            vec![eta; n_models],
            vec![lmbda; n_models],
            &self.rows(),
            &self.y,
            2,
            group,
        )
        .expect("valid engine")
    }

    /// Full-batch cost including the L2 term, as network2's total_cost.
    fn total_cost(&self, cost: Cost, lmbda: f64) -> f64 {
        let e = self.engine(cost, self.y.len(), 1.0, lmbda, None);
        let (sum, _) = e.evaluate(0, &self.rows()).expect("dataset 0");
        let n = self.y.len() as f64;
        sum[0] / n + 0.5 * (lmbda / n) * e.weight_sq_norms()[0]
    }
}

/// One full-batch step moves every parameter by −η·∂C/∂θ: check it against central
/// finite differences of the total cost.
fn check_gradient(sizes: &[usize], cost: Cost, lmbda: f64) {
    let n = 6;
    let eta = 1e-3;
    let p = Problem::new(sizes, 1, n);
    let mut e = p.engine(cost, n, eta, lmbda, None);
    let order = e
        .epoch_order(&(0..n as i64).collect::<Vec<_>>())
        .expect("order");
    e.train_batches(&p.rows(), &order, 0..1).expect("rows");
    let (w_after, b_after) = e.params();
    let h = 1e-6;
    let mut checked = 0;
    for l in 0..sizes.len() - 1 {
        for (is_weight, len) in [(true, p.weights[l].len()), (false, p.biases[l].len())] {
            for i in 0..len {
                let mut plus = Problem { ..p.clone() };
                let mut minus = Problem { ..p.clone() };
                let (before, after, vp, vm) = if is_weight {
                    (
                        p.weights[l][i],
                        w_after[l][i],
                        &mut plus.weights[l][i],
                        &mut minus.weights[l][i],
                    )
                } else {
                    (
                        p.biases[l][i],
                        b_after[l][i],
                        &mut plus.biases[l][i],
                        &mut minus.biases[l][i],
                    )
                };
                *vp += h;
                *vm -= h;
                let numeric =
                    (plus.total_cost(cost, lmbda) - minus.total_cost(cost, lmbda)) / (2.0 * h);
                let from_step = (before - after) / eta;
                assert!(
                    (numeric - from_step).abs() <= 1e-6 * (1.0 + numeric.abs()),
                    "{sizes:?} {cost:?} λ={lmbda} layer {l} {} {i}: finite diff {numeric}, step {from_step}",
                    if is_weight { "w" } else { "b" }
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10);
}

#[test]
fn gradients_match_finite_differences() {
    for sizes in [&[5, 4, 3][..], &[5, 3], &[17, 4, 5, 3]] {
        for cost in [Cost::CrossEntropy, Cost::Quadratic] {
            for lmbda in [0.0, 2.0] {
                check_gradient(sizes, cost, lmbda);
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_grouping_or_threads() {
    let p = Problem::new(&[20, 7, 3], 5, 23);
    let run = |group: Option<usize>, threads: usize| {
        let mut e = p.engine(Cost::CrossEntropy, 4, 0.5, 1.0, group);
        let order = e
            .epoch_order(&(0..23).rev().collect::<Vec<_>>())
            .expect("order");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let n = e.n_batches(&order);
            e.train_batches(&p.rows(), &order, 0..2).expect("rows");
            e.train_batches(&p.rows(), &order, 2..n).expect("rows");
        });
        (e.params(), e.evaluate(0, &p.rows()).expect("dataset"))
    };
    let want = run(Some(5), 1);
    for (group, threads) in [(Some(1), 2), (Some(2), 2), (Some(3), 1), (None, 2)] {
        assert_eq!(
            run(group, threads),
            want,
            "group {group:?}, threads {threads}"
        );
    }
}

/// Training and evaluation on every instruction set the CPU has give the same bits, in both
/// precisions: the kernels, the small layers, the sigmoid and the costs.
#[test]
fn results_do_not_depend_on_the_instruction_set() {
    /// Weights and biases per layer, then the cost sums.
    type Outcome<T> = (Vec<Vec<T>>, Vec<Vec<T>>, Vec<f64>);
    fn run<T: Kernels>(p: &Problem, isa: Isa) -> Outcome<T> {
        let cast = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        let (weights, biases): (Vec<_>, Vec<_>) = (
            p.weights.iter().map(|w| cast(w)).collect(),
            p.biases.iter().map(|b| cast(b)).collect(),
        );
        let mut e = Engine::<T>::new(
            Spec {
                sizes: p.sizes.clone(),
                cost: Cost::CrossEntropy,
                batch_size: 4,
            },
            InitialParams {
                weights: weights.iter().map(Vec::as_slice).collect(),
                biases: biases.iter().map(Vec::as_slice).collect(),
            },
            vec![0.5, 2.0, 8.0],
            vec![1.0; 3],
            &cast(&p.rows()),
            &p.y,
            2,
            Some(2),
        )
        .expect("valid engine");
        e.isa = isa;
        let order = e.epoch_order(&(0..23).collect::<Vec<_>>()).expect("order");
        for _ in 0..3 {
            e.train_batches(&cast(&p.rows()), &order, 0..e.n_batches(&order))
                .expect("rows");
        }
        let (weights, biases) = e.params();
        (
            weights,
            biases,
            e.evaluate(0, &cast(&p.rows())).expect("dataset").0,
        )
    }
    let p = Problem::new(&[40, 7, 3], 3, 23);
    let (want32, want64) = (run::<f32>(&p, Isa::detect()), run::<f64>(&p, Isa::detect()));
    for isa in Isa::supported() {
        assert!(run::<f32>(&p, isa) == want32, "float32 on {isa:?}");
        assert!(run::<f64>(&p, isa) == want64, "float64 on {isa:?}");
    }
}

#[test]
fn inactive_models_keep_their_parameters_and_others_are_unaffected() {
    let p = Problem::new(&[8, 4, 3], 3, 10);
    let mut all = p.engine(Cost::Quadratic, 3, 0.3, 0.0, Some(3));
    let mut some = p.engine(Cost::Quadratic, 3, 0.3, 0.0, Some(3));
    some.set_active(vec![true, false, true]).expect("3 values");
    let order = all
        .epoch_order(&(0..10).collect::<Vec<_>>())
        .expect("order");
    all.train_batches(&p.rows(), &order, 0..4).expect("rows");
    some.train_batches(&p.rows(), &order, 0..4).expect("rows");
    let (wa, _) = all.params();
    let (ws, _) = some.params();
    let per_model = wa[0].len() / 3;
    assert_eq!(&ws[0][..per_model], &wa[0][..per_model]);
    assert_eq!(&ws[0][2 * per_model..], &wa[0][2 * per_model..]);
    assert_eq!(
        &ws[0][per_model..2 * per_model],
        &p.weights[0][per_model..2 * per_model]
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let p = Problem::new(&[4, 3, 2], 1, 5);
    let e = p.engine(Cost::CrossEntropy, 2, 0.1, 0.0, None);
    assert_eq!(e.epoch_order(&[0, 5]).err().map(|e| e.name), Some("order"));
    assert_eq!(e.epoch_order(&[]).err().map(|e| e.name), Some("order"));
    assert_eq!(
        e.evaluate(3, &p.rows()).err().map(|e| e.name),
        Some("dataset")
    );
    assert_eq!(e.evaluate(0, &p.x).err().map(|e| e.name), Some("X"));
    let mut padding_set = p.rows();
    padding_set[4] = 1.0;
    let mut e = e;
    assert_eq!(
        e.add_dataset(&padding_set, &p.y).err().map(|e| e.name),
        Some("X")
    );
    let mut bad = p.clone();
    bad.y[0] = 2;
    let err = Engine::<f64>::new(
        Spec {
            sizes: vec![4, 3, 2],
            cost: Cost::CrossEntropy,
            batch_size: 2,
        },
        InitialParams {
            weights: bad.weights.iter().map(Vec::as_slice).collect(),
            biases: bad.biases.iter().map(Vec::as_slice).collect(),
        },
        vec![0.1],
        vec![-1.0],
        &bad.rows(),
        &bad.y,
        1,
        None,
    );
    assert_eq!(err.err().map(|e| e.name), Some("lmbda"));
}

#[test]
fn plan_groups_covers_every_model_once_in_balanced_groups() {
    for n in 1..40 {
        for threads in 1..5 {
            for size in [None, Some(1), Some(3), Some(64)] {
                let groups = plan_groups(n, 100_000, threads, size);
                let mut next = 0;
                for g in &groups {
                    assert_eq!(g.start, next);
                    assert!(!g.is_empty());
                    next = g.end;
                }
                assert_eq!(next, n);
                if size.is_none() {
                    // Even sizes, and each half of the list holds half the models.
                    let sizes: Vec<usize> = groups.iter().map(|g| g.len()).collect();
                    let (min, max) = (sizes.iter().min(), sizes.iter().max());
                    assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 1), "{sizes:?}");
                    let half: usize = sizes[..sizes.len() / 2].iter().sum();
                    if sizes.len().is_multiple_of(2) {
                        assert!(half.abs_diff(n - half) <= 1, "{sizes:?}");
                    }
                }
            }
        }
    }
}

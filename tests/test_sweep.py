"""The sweep API: grids, epoch-by-epoch training, callbacks, interruption, the GIL."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import sgdfast
from conftest import assert_main_thread_keeps_running, make_classification


def test_result_shapes_and_grid_order(small_data, small_eval):
    res = sgdfast.sweep(
        small_data,
        eta=[0.1, 1.0, 3.0],
        lmbda=[0.0, 5.0],
        batch_size=[5, 10],
        epochs=2,
        sizes=(12, 4, 3),
        evaluation_data=small_eval,
        monitor=("training_cost", "evaluation_accuracy"),
    )
    assert res.n_models == 12
    assert res.training_cost.shape == (12, 2)
    assert res.evaluation_accuracy.shape == (12, 2)
    assert res.training_accuracy is None and res.evaluation_cost is None
    np.testing.assert_array_equal(res.batch_size, [5] * 6 + [10] * 6)
    np.testing.assert_array_equal(res.eta[:6], [0.1, 0.1, 1.0, 1.0, 3.0, 3.0])
    np.testing.assert_array_equal(res.lmbda[:6], [0.0, 5.0] * 3)
    assert [w.shape for w in res.weights] == [(12, 4, 12), (12, 3, 4)]
    assert [b.shape for b in res.biases] == [(12, 4), (12, 3)]
    assert ((res.evaluation_accuracy >= 0) & (res.evaluation_accuracy <= 1)).all()
    assert "12 models of [12, 4, 3]" in repr(res)


def test_a_batch_size_grid_equals_separate_sweeps(small_data):
    kwargs = dict(eta=[0.3, 0.6], epochs=2, sizes=(12, 4, 3))
    both = sgdfast.sweep(small_data, batch_size=[4, 9], **kwargs)
    only9 = sgdfast.sweep(small_data, batch_size=9, **kwargs)
    np.testing.assert_array_equal(both.training_cost[2:], only9.training_cost)


def test_l2_term_is_in_the_training_cost(small_data):
    kwargs = dict(eta=1e-9, epochs=1, sizes=(12, 4, 3), dtype="float64")
    plain = sgdfast.sweep(small_data, lmbda=0.0, **kwargs)
    reg = sgdfast.sweep(small_data, lmbda=3.0, **kwargs)
    sq = sum(float((w[0].astype(np.float64) ** 2).sum()) for w in reg.weights)
    expected = 0.5 * (3.0 / len(small_data)) * sq
    assert reg.training_cost[0, 0] - plain.training_cost[0, 0] == pytest.approx(expected, rel=1e-6)


def test_trainer_epoch_by_epoch_equals_one_sweep(small_data):
    kwargs = dict(eta=[0.2, 2.0], sizes=(12, 4, 3), seed=4)
    trainer = sgdfast.Trainer(small_data, **kwargs)
    first = trainer.run_epoch()
    assert set(first) == {"training_cost"} and first["training_cost"].shape == (2,)
    trainer.run(2)
    whole = sgdfast.sweep(small_data, epochs=3, **kwargs)
    np.testing.assert_array_equal(trainer.result().training_cost, whole.training_cost)
    assert trainer.epoch == 3


def test_schedule_changes_eta_between_epochs(small_data):
    kwargs = dict(eta=[0.5], sizes=(12, 4, 3), dtype="float64")
    stepped = sgdfast.Trainer(small_data, **kwargs)
    stepped.run(1)
    stepped.set_eta([0.05])
    stepped.run(1)
    ref = sgdfast.Trainer(small_data, backend="numpy", **kwargs)
    ref.run(1)
    ref.set_eta([0.05])
    ref.run(1)
    constant = sgdfast.sweep(small_data, epochs=2, **kwargs)
    np.testing.assert_allclose(stepped.result().training_cost, ref.result().training_cost, 1e-10)
    assert stepped.result().training_cost[0, 1] != constant.training_cost[0, 1]
    with pytest.raises(ValueError, match="eta: expected 1 values"):
        stepped.set_eta([0.1, 0.2])


def test_callback_runs_after_every_epoch(small_data):
    seen = []
    sgdfast.sweep(
        small_data, eta=0.1, epochs=3, sizes=(12, 4, 3), callback=lambda t: seen.append(t.epoch)
    )
    assert seen == [1, 2, 3]


def test_training_releases_the_gil():
    data = make_classification(20_000, 784, 10, seed=0)
    trainer = sgdfast.Trainer(data, eta=list(np.geomspace(0.01, 1, 8)), monitor=(), n_threads=1)
    assert_main_thread_keeps_running(trainer.run_epoch, min_seconds=0.2)


def test_ctrl_c_stops_a_sweep_within_a_second(tmp_path):
    script = tmp_path / "long_sweep.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, numpy as np, sgdfast
            rng = np.random.default_rng(0)
            X = rng.random((20_000, 784)); y = rng.integers(0, 10, 20_000)
            print("ready", flush=True)
            try:
                sgdfast.sweep((X, y), eta=list(np.geomspace(0.01, 1, 32)), epochs=1000,
                              monitor=())
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(3)
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # well into training
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    took = time.perf_counter() - sent
    assert proc.returncode == 3, err
    assert "interrupted" in out
    assert took < 1.5, f"took {took:.2f}s to stop"

"""Full-MNIST runs of the book's experiments (slow: enabled with --runslow; CI runs them)."""

from __future__ import annotations

import numpy as np
import pytest

import sgdfast

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mnist() -> sgdfast.data.MNIST:
    return sgdfast.load_mnist(download=False)


def test_book_network_reaches_the_books_test_accuracy(mnist):
    # Chapter 3: [784, 30, 10], η = 0.5, λ = 5.0, m = 10, 30 epochs: 96.49% in the book.
    res = sgdfast.sweep(
        mnist.train,
        eta=0.5,
        lmbda=5.0,
        epochs=30,
        batch_size=10,
        sizes=(784, 30, 10),
        evaluation_data=mnist.test,
        monitor=("evaluation_accuracy",),
        seed=1,
    )
    accuracy = res.evaluation_accuracy[0, -1]
    print(f"test accuracy after 30 epochs: {accuracy:.4f}")
    assert accuracy >= 0.955


def test_chapter_3_learning_rate_picture(mnist):
    # η = 0.025 falls smoothly; η = 2.5 oscillates from the start (the book's figure).
    res = sgdfast.sweep(
        mnist.train, eta=[0.025, 0.25, 2.5], lmbda=5.0, epochs=30, batch_size=10, seed=1
    )
    small, _, large = res.training_cost
    assert (np.diff(small) < 0).all(), "η = 0.025 should decrease every epoch"
    rises = np.diff(large) > 0
    assert rises[:10].sum() >= 2, "η = 2.5 should go up and down early on"
    assert large[-1] > small[-1], "η = 2.5 should end above η = 0.025"
    assert not res.diverged.any()

"""The network's mathematics: gradient, sigmoid backends, switches, training."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nn.network import SIGMOIDS, SMALLEST_CHUNK, Network, chunk_bounds, one_hot
from nn.options import RUNGS, Options
from nn.train import train


def small_problem(seed=1, n_in=6, m=20, classes=3):
    rng = np.random.default_rng(seed)
    X = rng.random((n_in, m))
    y = rng.integers(0, classes, m)
    return X, one_hot(y, classes)


def numerical_gradient(network, X, Y, eps=1e-6):
    grad = np.empty(network.size)
    for i in range(network.size):
        step = np.zeros(network.size)
        step[i] = eps
        grad[i] = (network.cost(network.theta + step, X, Y) - network.cost(network.theta - step, X, Y)) / (2 * eps)
    return grad


@pytest.mark.parametrize("rung", RUNGS)
def test_gradient_matches_central_differences(rung):
    X, Y = small_problem()
    network = Network([6, 5, 4, 3], lmbda=0.7, options=RUNGS[rung], seed=3)
    _, analytic = network.cost_and_gradient(network.theta, X, Y)
    numeric = numerical_gradient(network, X, Y)
    relative_error = np.linalg.norm(numeric - analytic) / np.linalg.norm(numeric + analytic)
    assert relative_error < 1e-6


def test_sigmoid_backends_agree_and_stay_in_bounds():
    z = np.concatenate([np.linspace(-50, 50, 1001), [-1e308, -745.2, -710.0, -40.0, 0.0, 40.0, 710.0, 1e308]])
    reference = SIGMOIDS["expit"](z)
    for name, sigmoid in SIGMOIDS.items():
        values = sigmoid(z)
        assert np.all((values >= 0.0) & (values <= 1.0)), name
        np.testing.assert_allclose(values, reference, rtol=0, atol=1e-12, err_msg=name)
        assert values[-1] == 1.0 and values[-8] == 0.0, name
    assert SIGMOIDS["numpy"](np.array([0.0]))[0] == 0.5


@pytest.mark.parametrize("rung", list(RUNGS)[1:])
def test_every_switch_leaves_cost_and_gradient_unchanged(rung):
    X, Y = small_problem(m=200)
    reference = Network([6, 8, 3], lmbda=5.0, options=RUNGS["0-seed"], seed=0)
    J0, g0 = reference.cost_and_gradient(reference.theta, X, Y)
    network = Network([6, 8, 3], lmbda=5.0, options=RUNGS[rung], seed=0)
    J, g = network.cost_and_gradient(network.theta, X, Y)
    assert abs(J - J0) <= 1e-12 * abs(J0)
    np.testing.assert_allclose(g, g0, rtol=1e-12, atol=1e-12 * np.abs(g0).max())


def test_fused_buffers_are_reused_between_calls():
    X, Y = small_problem(m=50)
    network = Network([6, 4, 3], options=RUNGS["5-fused-buffers"])
    first = network.cost_and_gradient(network.theta, X, Y)
    buffers = {key: id(array) for key, array in network._buffers.items()}
    second = network.cost_and_gradient(network.theta, X, Y)
    assert {key: id(array) for key, array in network._buffers.items()} == buffers
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])


def test_invalid_options_are_refused_with_a_clear_message():
    from nn import WorkloadError

    with pytest.raises(WorkloadError, match="choose one of"):
        Options(sigmoid="tanh")
    with pytest.raises(WorkloadError, match="needs --sigmoid numexpr"):
        Options(sigmoid="numpy", fused=True)
    with pytest.raises(WorkloadError, match="at least two"):
        Network([784])
    with pytest.raises(WorkloadError, match="--data-parallel needs --fused"):
        Options(sigmoid="numexpr", data_parallel=True)
    with pytest.raises(WorkloadError, match="--chunks needs --data-parallel"):
        Options(sigmoid="numexpr", fused=True, chunks=4)


def test_phase_timers_see_products_and_sigmoid_but_not_accuracy_checks():
    X, Y = small_problem(m=100)
    network = Network([6, 5, 3])
    network.cost_and_gradient(network.theta, X, Y)
    phases = dict(network.timer.seconds)
    assert set(phases) == {"products", "sigmoid", "elementwise"}
    network.accuracy(X, np.argmax(Y, axis=0))
    assert dict(network.timer.seconds) == phases


def test_cg_lowers_the_cost_on_real_mnist_and_is_reproducible(mnist_small):
    train_set, cv_set = mnist_small
    histories = []
    for _ in range(2):
        network = Network([784, 30, 10], lmbda=5.0, options=RUNGS["3-numexpr"], seed=0)
        Y = one_hot(train_set.y, 10)
        initial = network.cost(network.theta, train_set.X, Y)
        training = train(network, train_set, iterations=8, cv_set=cv_set)
        histories.append([step.cost for step in training.history])
        assert training.history[-1].cost < initial * 0.9
        assert all(b <= a + 1e-12 for a, b in zip(histories[-1], histories[-1][1:]))
        assert training.history[-1].cv_accuracy > 0.5
    assert histories[0] == histories[1]


@pytest.mark.parametrize("chunks", [0, 1, 3, 7])
def test_data_parallel_agrees_with_fused_buffers_on_real_mnist_whatever_the_chunks(mnist_small, chunks):
    """Rung 6 adds the chunks' sums in chunk order: the same J and gradient as rung 5 to 1e-12,
    and bit for bit the same from one call to the next."""
    train_set, _ = mnist_small
    X, Y = train_set.X, one_hot(train_set.y, 10)
    fused = Network([784, 30, 10], options=RUNGS["5-fused-buffers"], seed=0)
    J5, g5 = fused.cost_and_gradient(fused.theta, X, Y)
    options = Options(**{**vars(RUNGS["6-data-parallel"]), "chunks": chunks})
    network = Network([784, 30, 10], options=options, seed=0)
    J, g = network.cost_and_gradient(network.theta, X, Y)
    assert abs(J - J5) <= 1e-12 * abs(J5)
    np.testing.assert_allclose(g, g5, rtol=0, atol=1e-12 * np.abs(g5).max())
    again = network.cost_and_gradient(network.theta, X, Y)
    assert again[0] == J and np.array_equal(again[1], g)
    described = network.describe()["data_parallel"]
    assert described["chunks"] == len(chunk_bounds(X.shape[1], described["workers"], chunks)) - 1
    assert set(network.timer.seconds) == {"products", "sigmoid", "elementwise"}


@pytest.mark.parametrize("workers", [2, 4, 16])
def test_guided_chunks_cover_the_examples_shrinking_to_a_small_last_chunk(workers):
    bounds = chunk_bounds(50000, workers)
    sizes = np.diff(bounds)
    assert bounds[0] == 0 and bounds[-1] == 50000 and sizes.min() > 0
    assert sizes[0] == 50000 // (2 * workers)
    assert all(b <= a for a, b in zip(sizes, sizes[1:]))  # shrinking
    assert sizes[-1] <= SMALLEST_CHUNK
    assert len(bounds) - 1 > 2 * workers  # enough small chunks at the end to even the workers out


def test_one_worker_or_an_explicit_count_splits_into_equal_chunks():
    assert chunk_bounds(50000, 1) == [0, 50000]
    assert chunk_bounds(10, 2, chunks=3) == [0, 3, 6, 10]
    assert chunk_bounds(3, 2, chunks=7) == [0, 1, 2, 3]  # never an empty chunk
    assert chunk_bounds(1500, 2) == [0, 1000, 1500]


def test_data_parallel_result_does_not_depend_on_the_thread_count(mnist_small):
    """With the chunks fixed, 1 and 2 workers add the same sums in the same order: bit-identical."""
    train_set, _ = mnist_small
    X, Y = train_set.X, one_hot(train_set.y, 10)
    options = Options(**{**vars(RUNGS["6-data-parallel"]), "chunks": 5})
    results = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            network = Network([784, 30, 10], options=options, seed=0)
            results.append(network.cost_and_gradient(network.theta, X, Y))
            assert network.describe()["data_parallel"]["workers"] == threads
    assert results[0][0] == results[1][0] and np.array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("rung", ["0-seed", "5-fused-buffers", "6-data-parallel"])
def test_float32_computes_in_float32_and_agrees_with_float64(mnist_small, rung):
    train_set, _ = mnist_small
    y = train_set.y
    X64, Y64 = train_set.X, one_hot(y, 10)
    X32, Y32 = X64.astype(np.float32), one_hot(y, 10, np.float32)
    n64 = Network([784, 30, 10], options=RUNGS[rung], seed=0)
    n32 = Network([784, 30, 10], options=RUNGS[rung], seed=0, dtype=np.float32)
    J64, g64 = n64.cost_and_gradient(n64.theta, X64, Y64)
    J32, g32 = n32.cost_and_gradient(n64.theta, X32, Y32)  # the optimiser hands over float64
    assert g32.dtype == np.float64 and n32.theta.dtype == np.float32
    assert abs(J32 - J64) <= 1e-5 * abs(J64)
    np.testing.assert_allclose(g32, g64, rtol=0, atol=1e-4 * np.abs(g64).max())

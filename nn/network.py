"""The seed post's network: fully connected sigmoid layers, cross-entropy cost with L2
regularisation, full-batch gradient by backpropagation.

Notation (features x examples, as the seed):
    X  (n0, m)       inputs, one example per column
    Y  (nL, m)       one-hot targets
    W_l (n_l, n_{l-1}), b_l (n_l, 1)
    z_l = W_l a_{l-1} + b_l,   a_l = sigma(z_l),   a_0 = X

    J = (1/m) sum[ -Y log a_L - (1 - Y) log(1 - a_L) ] + (lmbda / 2m) sum_l ||W_l||^2

Each of the seed's optimisation steps is a switch in :class:`Options`, so the ladder of
:data:`nn.options.RUNGS` replays the post's story on one implementation.
"""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from functools import partial

import numexpr
import numpy as np
import scipy.special

from . import WorkloadError
from .options import LMBDA, SEED_START, Options


def sigmoid_numpy(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-z) -> inf gives exactly 0, as it should
        return 1.0 / (1.0 + np.exp(-z))


def sigmoid_expit(z: np.ndarray) -> np.ndarray:
    return scipy.special.expit(z)


def sigmoid_numexpr(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return numexpr.evaluate("1 / (1 + exp(-z))", out=out)


SIGMOIDS = {"numpy": sigmoid_numpy, "expit": sigmoid_expit, "numexpr": sigmoid_numexpr}


def product(A: np.ndarray, B: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A @ B by BLAS GEMM. A named function so that cProfile can see the products: NumPy 2's
    ``np.dot`` is dispatched in C and does not appear in a profile on its own."""
    return np.dot(A, B, out=out)


def sigmoid_of_affine(z: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """sigma(z + b) in one numexpr pass into ``out``."""
    return numexpr.evaluate("1 / (1 + exp(-(z + b)))", out=out)


def times_sigmoid_prime(back: np.ndarray, a: np.ndarray) -> np.ndarray:
    """back * sigma'(z) with sigma'(z) = a (1 - a), in place, in one numexpr pass."""
    return numexpr.evaluate("back * a * (1 - a)", out=back)


class PhaseTimer:
    """Wall time per phase (matrix products, sigmoid, ...), accumulated across calls.
    cProfile cannot see inside BLAS threads; these timers see what the caller waits for."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.enabled = True

    @contextmanager
    def __call__(self, phase: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.enabled:
                self.seconds[phase] += time.perf_counter() - start

    @contextmanager
    def paused(self):
        """Leave work that is not part of training (accuracy checks) out of the phases."""
        self.enabled = False
        try:
            yield
        finally:
            self.enabled = True

    def reset(self) -> None:
        self.seconds.clear()


SMALLEST_CHUNK = 1000  # examples: smaller chunks would lose more to overhead than balance gains


def chunk_bounds(m: int, workers: int, chunks: int = 0) -> list[int]:
    """Where rung 6 splits m examples: into ``chunks`` equal parts when given; else one part on one
    worker and, beyond, guided self-scheduling (OpenMP's ``guided``): each chunk a 1/(2 workers)
    share of what is left, down to SMALLEST_CHUNK, so the last chunks are small and the workers
    finish together. With 8 equal chunks on 2 threads (AMD EPYC, 2 cores, 50,000 examples) a worker
    idled 42 ms per evaluation waiting for the other's last chunk; with these 13, 13 ms."""
    if chunks or workers == 1:
        return np.linspace(0, m, min(chunks or 1, m) + 1).astype(int).tolist()
    bounds = [0]
    while bounds[-1] < m:
        bounds.append(min(m, bounds[-1] + max(SMALLEST_CHUNK, (m - bounds[-1]) // (2 * workers))))
    return bounds


def one_hot(y: np.ndarray, classes: int, dtype=np.float64) -> np.ndarray:
    """Labels (m,) -> targets (classes, m)."""
    Y = np.zeros((classes, y.size), dtype=dtype)
    Y[y, np.arange(y.size)] = 1.0
    return Y


def cross_entropy(zL: np.ndarray, Y: np.ndarray) -> float:
    """sum[-Y log sigma(z) - (1 - Y) log(1 - sigma(z))] written as sum[log(1 + e^z) - Y z],
    which is the same number without log(0) when sigma saturates."""
    return float(np.sum(np.logaddexp(0.0, zL)) - np.vdot(Y, zL))


class Network:
    """A sigmoid network with layer sizes ``layers`` (e.g. [784, 300, 10])."""

    def __init__(self, layers, lmbda: float = LMBDA, options: Options = SEED_START, seed: int = 0,
                 init_epsilon: float = 0.12, dtype=np.float64):
        self.layers = [int(n) for n in layers]
        if len(self.layers) < 2 or min(self.layers) < 1:
            raise WorkloadError(f"--layers {','.join(map(str, layers))}: need at least two positive sizes, like 784,300,10.")
        self.lmbda = float(lmbda)
        self.options = options
        self.dtype = dtype
        self.timer = PhaseTimer()
        self.sigmoid = SIGMOIDS[options.sigmoid]
        self.shapes = list(zip(self.layers[1:], self.layers[:-1]))  # (n_l, n_{l-1})
        self.size = sum(n_out * (n_in + 1) for n_out, n_in in self.shapes)
        rng = np.random.default_rng(seed)
        self.theta = rng.uniform(-init_epsilon, init_epsilon, self.size).astype(dtype)
        self._buffers: dict = {}
        self._pool = None  # rung 6's workers, started at its first evaluation
        self._chunks_of = None

    # -- parameters ---------------------------------------------------------------

    def unpack(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views (W_l (n_l, n_{l-1}), b_l (n_l, 1)) into the flat parameter vector."""
        params, offset = [], 0
        for n_out, n_in in self.shapes:
            W = theta[offset:offset + n_out * n_in].reshape(n_out, n_in)
            offset += n_out * n_in
            b = theta[offset:offset + n_out].reshape(n_out, 1)
            offset += n_out
            params.append((W, b))
        return params

    def _operand(self, A: np.ndarray) -> np.ndarray:
        """A transposed operand as the options ask: a view, or a contiguous copy (the seed's step 4)."""
        return np.ascontiguousarray(A) if self.options.contiguous else A

    def _sigmoid_gradient(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """sigma'(z) = sigma(z)(1 - sigma(z)); the seed's start evaluated sigma twice more here."""
        with self.timer("sigmoid"):
            if self.options.recompute_sigmoid:
                return self.sigmoid(z) * (1.0 - self.sigmoid(z))
        with self.timer("elementwise"):
            return a * (1.0 - a)

    def _regularisation(self, params) -> float:
        return self.lmbda / 2.0 * sum(float(np.vdot(W, W)) for W, _ in params)

    # -- forward --------------------------------------------------------------------

    def feedforward(self, theta: np.ndarray, X: np.ndarray):
        """Pre-activations [z_1..z_L] and activations [a_0 = X, a_1..a_L]."""
        zs, activations = [], [X]
        for W, b in self.unpack(theta):
            with self.timer("products"):
                z = product(W, activations[-1])
            with self.timer("elementwise"):
                z += b
            with self.timer("sigmoid"):
                a = self.sigmoid(z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def cost(self, theta: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float:
        zs, _ = self.feedforward(theta, X)
        m = X.shape[1]
        return (cross_entropy(zs[-1], Y) + self._regularisation(self.unpack(theta))) / m

    def predict(self, X: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
        """Most likely class of each column of X."""
        with self.timer.paused():
            _, activations = self.feedforward(self.theta if theta is None else theta, X)
        return np.argmax(activations[-1], axis=0)

    def accuracy(self, X: np.ndarray, y: np.ndarray, theta: np.ndarray | None = None) -> float:
        return float(np.mean(self.predict(X, theta) == y))

    # -- cost and gradient ---------------------------------------------------------

    def cost_and_gradient(self, theta: np.ndarray, X: np.ndarray, Y: np.ndarray):
        """J(theta) and dJ/dtheta (same layout as theta) by backpropagation, computed in the
        network's dtype (X and Y in it too); the gradient is returned in float64, as the
        optimiser works in float64 whatever the network's precision."""
        if self.dtype != np.float64:
            J, grad = self._cost_and_gradient(np.asarray(theta, dtype=self.dtype), X, Y)
            return J, grad.astype(np.float64)
        return self._cost_and_gradient(theta, X, Y)

    def _cost_and_gradient(self, theta: np.ndarray, X: np.ndarray, Y: np.ndarray):
        if self.options.data_parallel:
            return self._data_parallel_cost_and_gradient(theta, X, Y)
        if self.options.fused:
            return self._fused_cost_and_gradient(theta, X, Y)
        m = X.shape[1]
        params = self.unpack(theta)
        zs, activations = self.feedforward(theta, X)
        with self.timer("elementwise"):
            J = (cross_entropy(zs[-1], Y) + self._regularisation(params)) / m
            grad = np.empty_like(theta)
            delta = activations[-1] - Y  # dJ/dz_L, times m
        for l in reversed(range(len(params))):
            W, _ = params[l]
            gW, gb = self.unpack(grad)[l]
            with self.timer("products"):
                outer = product(delta, self._operand(activations[l].T))
            with self.timer("elementwise"):
                gW[...] = outer / m + (self.lmbda / m) * W
                gb[...] = delta.sum(axis=1, keepdims=True) / m
            if l > 0:
                with self.timer("products"):
                    back = product(self._operand(W.T), delta)
                sigma_prime = self._sigmoid_gradient(zs[l - 1], activations[l])
                with self.timer("elementwise"):
                    delta = back * sigma_prime
        return J, grad

    def _fused_cost_and_gradient(self, theta: np.ndarray, X: np.ndarray, Y: np.ndarray):
        """The same J and gradient with each elementwise step one numexpr pass into a
        preallocated buffer: bias-add fused with the sigmoid, sigma' fused into delta."""
        grad = np.empty_like(theta)
        cost = self._fused_sums(self.unpack(theta), X, Y, self._buffers, self.timer, grad)
        return self._finish(theta, cost, grad, X.shape[1])

    def _finish(self, theta: np.ndarray, cost: float, grad: np.ndarray, m: int):
        """From the sums over examples to J and its gradient: the mean and the L2 term."""
        params = self.unpack(theta)
        with self.timer("elementwise"):
            J = (cost + self._regularisation(params)) / m
            grad *= 1.0 / m
            for (W, _), (gW, _) in zip(params, self.unpack(grad)):
                numexpr.evaluate("gW + decay * W", local_dict={"gW": gW, "W": W, "decay": self.lmbda / m}, out=gW)
        return J, grad

    def _fused_sums(self, params, X: np.ndarray, Y: np.ndarray, buffers: dict, timer: PhaseTimer,
                    grad: np.ndarray) -> float:
        """Over the examples of X (n0, m): the cross-entropy summed, and into ``grad`` the gradient
        of that sum (no mean, no L2 term), with work arrays kept in ``buffers`` for the next call."""
        m = X.shape[1]

        def buffer(name, shape):  # allocating 100 MB temporaries per call costs page faults
            if (name, shape) not in buffers:
                buffers[name, shape] = np.empty(shape, dtype=self.dtype)
            return buffers[name, shape]

        last = len(params) - 1
        activations = [X]
        for l, (W, b) in enumerate(params):
            z, a = buffer(f"z{l}", (W.shape[0], m)), buffer(f"a{l}", (W.shape[0], m))
            with timer("products"):
                product(W, activations[-1], out=z)
            with timer("sigmoid"):
                if l == last:  # z_L is kept for the cost
                    z += b
                    sigmoid_numexpr(z, out=a)
                else:
                    sigmoid_of_affine(z, b, out=a)
            activations.append(a)
        with timer("elementwise"):
            cost = cross_entropy(z, Y)
            delta = buffer(f"d{last}", activations[-1].shape)
            numexpr.evaluate("a - Y", local_dict={"a": activations[-1], "Y": Y}, out=delta)
        for l in reversed(range(len(params))):
            W, _ = params[l]
            gW, gb = self.unpack(grad)[l]
            with timer("products"):
                product(delta, activations[l].T, out=gW)
            with timer("elementwise"):
                np.sum(delta, axis=1, keepdims=True, out=gb)
            if l > 0:
                back = buffer(f"d{l - 1}", (W.shape[1], m))
                with timer("products"):
                    product(W.T, delta, out=back)
                with timer("sigmoid"):
                    delta = times_sigmoid_prime(back, activations[l])
        return cost

    # -- rung 6: data parallel -------------------------------------------------------

    def _data_parallel_cost_and_gradient(self, theta: np.ndarray, X: np.ndarray, Y: np.ndarray):
        """The examples split into chunks; each chunk's forward and backward pass (the fused
        path) runs on a worker thread with BLAS and numexpr single-threaded, so every phase, not
        only the products, uses every core. The chunks' sums are added in chunk order (by the
        workers, a slice of the gradient each), so a result is the same run to run and, for the
        same chunks, at any thread count. Phase timers: each phase's thread-seconds over the workers."""
        pool, chunks = self._parallel_setup(X, Y)
        params = self.unpack(theta)
        timers = [PhaseTimer() for _ in chunks]
        # BLAS single-threaded to the end: the L2 term's dot product then adds
        # in one order at any thread count
        with self._controller.limit(limits=1, user_api="blas"):
            threads = numexpr.set_num_threads(1)
            try:
                futures = [pool.submit(self._fused_sums, params, Xc, Yc, buffers, timer, grad)
                           for (Xc, Yc, buffers, grad), timer in zip(chunks, timers)]
                costs = [future.result() for future in futures]
            finally:
                numexpr.set_num_threads(threads)
            grad = np.empty_like(theta)
            with self.timer("elementwise"):
                list(pool.map(partial(self._reduce, grad, chunks), range(self.workers)))
            for timer in timers:
                for phase, seconds in timer.seconds.items():
                    if self.timer.enabled:
                        self.timer.seconds[phase] += seconds / self.workers
            return self._finish(theta, sum(costs), grad, X.shape[1])

    def _reduce(self, grad: np.ndarray, chunks, part: int) -> None:
        """One worker's share of grad = the chunks' gradient sums added in chunk order: every
        element sums the same terms in the same order whichever worker adds them."""
        lo, hi = (grad.size * part) // self.workers, (grad.size * (part + 1)) // self.workers
        np.copyto(grad[lo:hi], chunks[0][3][lo:hi])
        for chunk in chunks[1:]:
            grad[lo:hi] += chunk[3][lo:hi]

    def _parallel_setup(self, X: np.ndarray, Y: np.ndarray):
        """The persistent pool, and per chunk its contiguous slice of X and Y, work arrays and
        gradient sums, made once per data set."""
        if self._pool is None:
            import threadpoolctl

            self._controller = threadpoolctl.ThreadpoolController()
            blas = [lib.num_threads for lib in self._controller.select(user_api="blas").lib_controllers]
            self.workers = max(blas or [numexpr.get_num_threads()])
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="chunk")
        if self._chunks_of is None or self._chunks_of[0] is not X or self._chunks_of[1] is not Y:
            bounds = chunk_bounds(X.shape[1], self.workers, self.options.chunks)
            self._chunks = [(np.ascontiguousarray(X[:, lo:hi]), np.ascontiguousarray(Y[:, lo:hi]), {},
                             np.empty(self.size, dtype=self.dtype)) for lo, hi in zip(bounds[:-1], bounds[1:])]
            self._chunks_of = (X, Y)
        return self._pool, self._chunks

    def describe(self) -> dict:
        described = {"layers": self.layers, "lmbda": self.lmbda, "parameters": self.size,
                     "dtype": np.dtype(self.dtype).name, "options": asdict(self.options)}
        if self._pool is not None:
            described["data_parallel"] = {"workers": self.workers, "chunks": len(self._chunks)}
        return described

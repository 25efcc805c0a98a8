"""The same network in another framework, measured beside the ladder: peers, not rungs.

PyTorch, where it is installed (`python3 -m nox -s bench -- --peers torch` installs the
``peers`` dependency group): the same layers, cost and L2 term, the same data and the same
initial weights as the ladder's network, the gradient by autograd, on the same number of
threads (``torch.set_num_threads``).
"""

from __future__ import annotations

import importlib.util


def torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def peer_installed(peer: str) -> bool:
    return {"torch": torch_installed}[peer]()


def torch_description() -> dict:
    """torch's version and the BLAS and threading it was built with, as it reports them."""
    import torch

    config = torch.__config__.show()
    keep = ("BLAS_INFO", "LAPACK_INFO", "USE_OPENMP", "USE_MKL", "CPU capability")
    return {"version": torch.__version__, "threads": torch.get_num_threads(),
            "config": [line.strip() for line in config.splitlines() if any(word in line for word in keep)],
            "parallel": torch.__config__.parallel_info().splitlines()[:3]}


class TorchNetwork:
    """The ladder's network in PyTorch. X (n0, m) and Y (nL, m) as in :mod:`nn.network`;
    parameters taken from ``network.theta`` so both start from the same point."""

    def __init__(self, network, X, Y, dtype: str = "float64"):
        import torch

        self.torch = torch
        self.dtype = getattr(torch, dtype)
        self.lmbda = network.lmbda
        self.X = torch.from_numpy(X).to(self.dtype)
        self.Y = torch.from_numpy(Y).to(self.dtype)
        self.params = [(torch.from_numpy(W.copy()).to(self.dtype).requires_grad_(),
                        torch.from_numpy(b.copy()).to(self.dtype).requires_grad_())
                       for W, b in network.unpack(network.theta)]

    def cost_and_gradient(self):
        """J and its gradient, flattened in the ladder's layout (W_1, b_1, W_2, b_2, ...)."""
        torch = self.torch
        for W, b in self.params:
            W.grad = b.grad = None
        m = self.X.shape[1]
        a = self.X
        for W, b in self.params[:-1]:
            a = torch.sigmoid(W @ a + b)
        W, b = self.params[-1]
        z = W @ a + b
        # cross-entropy through log(1 + e^z) - Y z, as nn.network.cross_entropy
        J = (torch.sum(torch.nn.functional.softplus(z) - self.Y * z)
             + self.lmbda / 2 * sum(torch.sum(W * W) for W, _ in self.params)) / m
        J.backward()
        return float(J.detach()), torch.cat([p.grad.reshape(-1) for pair in self.params for p in pair]).double().numpy()


def trained_network(peer: str) -> type:
    """The ladder's network class with ``peer`` computing its cost and gradient (float64,
    autograd), so that ``nn``'s own training loop (SciPy's CG, the same data and start) trains it:
    the scaling sweep's peer. Accuracy is still read with NumPy, from the same parameters.
    (Made on use: ``nn`` needs numexpr, which a build environment does not have yet.)"""
    from nn.network import Network

    assert peer == "torch", peer

    class TorchTrainedNetwork(Network):
        _torch = _data = None

        def cost_and_gradient(self, theta, X, Y):
            import torch

            if self._data is None or self._data[0] is not X or self._data[1] is not Y:
                self._torch, self._data = TorchNetwork(self, X, Y, "float64"), (X, Y)
            offset = 0
            with torch.no_grad():
                for pair in self._torch.params:
                    for p in pair:
                        p.copy_(torch.from_numpy(theta[offset:offset + p.numel()].reshape(p.shape)))
                        offset += p.numel()
            return self._torch.cost_and_gradient()

        def describe(self) -> dict:
            return {**super().describe(), "peer": torch_description()}

    return TorchTrainedNetwork

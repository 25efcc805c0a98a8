"""The seed post's network on real MNIST: the workload, usable on its own (``python -m nn``)."""


class WorkloadError(Exception):
    """Bad input to the workload (data, layers, options): the message says what and how to fix it."""

"""Ends its process, as a library that calls os._exit on an error does: the child leaves no result."""

import os

import numpy as np


def work():
    np.ones(10).sum()
    os._exit(3)

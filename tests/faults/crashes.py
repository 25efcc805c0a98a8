"""Crashes its process, as a C extension with a bad pointer does (a segmentation fault)."""

import ctypes


def work():
    return ctypes.string_at(0)

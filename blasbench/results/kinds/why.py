"""``why.json``: the why-scaling-stops experiments."""

from __future__ import annotations

from ..analysis import analyse_why
from .base import Kind


class Why(Kind):
    name, file = "why", "why.json"
    required = ("experiments",)

    def analyse(self, result: dict) -> dict:
        return analyse_why(result)


KIND = Why()

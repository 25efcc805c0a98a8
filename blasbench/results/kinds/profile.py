"""``profile.json``: the optimisation ladder's rungs under cProfile."""

from __future__ import annotations

from ..analysis import analyse_profile
from .base import Kind


class Profile(Kind):
    name, file = "profile", "profile.json"
    required = ("rungs",)

    def analyse(self, result: dict) -> list[dict]:
        return analyse_profile(result)


KIND = Profile()

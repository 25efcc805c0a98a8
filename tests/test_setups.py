"""Setups are spelt one way: every spelling parses to one setup, which reads back as the same spelling,
and every setup a build reports is one a command takes."""

import pytest

from blasbench import UserError, pins
from blasbench.building.providers import PROVIDERS
from blasbench.setups import SETUP_KINDS, VARIANTS, Setup, built_setup, parse_setup


@pytest.mark.parametrize("word, spelt", [
    ("system", "system:pthread"), ("system:serial", "system:serial"), ("blis", "blis:pthread"),
    ("source", "source:bookworm"), ("scipy-openblas", "scipy-openblas"), ("scipy-openblas:0.3.26..0.3.34",
                                                                          "scipy-openblas:0.3.26..0.3.34"),
    ("pypi:2.0", "pypi:2.0"), ("site-cfg", "site-cfg:site.cfg"), ("installed", "installed"), ("mkl", "mkl"),
    ("system+scipy==1.16.3+numpy==2.3.5", "system:pthread+numpy==2.3.5+scipy==1.16.3"),
    ("source:trixie+TARGET=ZEN+USE_OPENMP=1", "source:trixie+TARGET=ZEN+USE_OPENMP=1"),
    (f"mkl+numpy=={pins.NUMPY}", "mkl"),
])
def test_a_spelling_parses_to_the_setup_that_reads_back_as_its_full_spelling(word, spelt):
    assert str(parse_setup(word)) == spelt and parse_setup(spelt) == parse_setup(word)


def test_a_built_setup_carries_the_releases_it_compiles_and_a_build_reports_them():
    setup = parse_setup("blis:openmp+numpy==2.3.5")
    assert (setup.numpy, setup.scipy, setup.make) == ("2.3.5", pins.SCIPY, ())
    assert parse_setup("source+TARGET=ZEN").make == ("TARGET=ZEN",)
    wheels = [{"package": "numpy", "version": "2.3.5"}, {"package": "scipy", "version": pins.SCIPY}]
    assert built_setup({"provider": "blis", "flavour": "openmp"}, wheels) == setup


def test_a_release_is_a_point_of_its_kinds_series_and_a_build_is_not():
    assert parse_setup("pypi:1.26..2.4").release == "1.26..2.4" and not parse_setup("pypi:1.26..2.4").builds
    assert parse_setup("scipy-openblas:0.3.30").release == "0.3.30" and parse_setup("scipy-openblas:0.3.30").builds
    assert parse_setup("scipy-openblas").release is None and parse_setup("system:openmp").release is None


def test_every_built_kind_is_a_provider_whose_first_flavour_is_the_kinds_default():
    """The default flavour is written in the kind (setups are data, read without loading a provider) and in
    the provider: the two must agree."""
    for kind in SETUP_KINDS.values():
        if kind.provider is None:
            continue
        provider = PROVIDERS[kind.provider]
        assert kind.name == kind.provider  # a built setup is spelt by its provider's name
        if kind.option == "flavour":
            assert kind.default == provider.flavours[0] and all(f in kind.summary for f in provider.flavours)


@pytest.mark.parametrize("provider, flavour", [(name, flavour) for name, cls in PROVIDERS.items()
                                               for flavour in (cls.flavours or ("",))])
def test_the_setup_a_build_reports_is_one_a_command_takes(provider, flavour):
    setup = built_setup({"provider": provider, "flavour": flavour})
    assert parse_setup(str(setup)).kind == provider and (parse_setup(str(setup)) == setup or provider == "site-cfg")


def test_every_variant_is_a_setup_of_a_registered_kind():
    assert all(variant.setup.kind in SETUP_KINDS and parse_setup(str(variant.setup)) == variant.setup
               for variant in VARIANTS.values() if variant.name != "site-cfg")
    assert VARIANTS["site-cfg"].setup == Setup("site-cfg", "site.cfg")


def test_a_spelling_that_names_no_kind_or_an_option_its_kind_cannot_take_is_one_line():
    with pytest.raises(UserError, match="no setup kind 'openblas'; the kinds: installed, system"):
        parse_setup("openblas")
    with pytest.raises(UserError, match="mkl takes nothing after a colon"):
        parse_setup("mkl:gnu")
    with pytest.raises(UserError, match="'newest' is not a release"):
        parse_setup("pypi:newest")

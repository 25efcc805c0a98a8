import pytest


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run tests marked slow (real builds, full training)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mnist_small():
    """2,000 training and 1,000 cross-validation examples of the real MNIST."""
    from nn.data import load_packaged, seed_splits

    data = load_packaged()
    train_set, cv_set, _ = seed_splits(data, train_size=2000, cv_size=1000, seed=0)
    return train_set, cv_set

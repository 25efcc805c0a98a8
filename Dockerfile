# The whole pipeline in a container: NumPy and SciPy compiled from source against Debian's
# OpenBLAS (flavour chosen at build time) by the same code as on a host, verified, and at
# run time `python -m nox -s scaling` with the reports written to a mounted directory.
#
#   docker build --build-arg OPENBLAS_FLAVOUR=openmp -t blasbench:openmp .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD/reports:/work/reports" blasbench:openmp
#
# `nox -s container` does both (and can make the base image locally where no registry is
# reachable). Wheels and sdists it stages in .container/cache are reused when their keys
# match; without them NumPy and SciPy are compiled here.
ARG BASE=debian:bookworm-slim
FROM ${BASE}

ARG OPENBLAS_FLAVOUR=pthread

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    BLASBENCH_CACHE=/opt/blasbench/cache \
    XDG_CACHE_HOME=/tmp/.cache \
    PATH=/opt/blasbench/venv/bin:$PATH

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential ca-certificates ccache gfortran pkg-config \
        python3 python3-dev python3-venv "libopenblas-${OPENBLAS_FLAVOUR}-dev" \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 bench \
    && mkdir -p /opt/blasbench /work \
    && chown bench:bench /opt/blasbench /work
USER 1000:1000
WORKDIR /work

# nox's one pin is pyproject.toml's `cluster` dependency group (copied first: this layer stays cached)
COPY --chown=bench:bench pyproject.toml /work/pyproject.toml
RUN python3 -m venv /opt/blasbench/venv \
    && python -m pip install --no-cache-dir "$(python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["dependency-groups"]["cluster"])')"

COPY --chown=bench:bench . /work

# Build (or reuse what is staged in .container/cache) and a one-point smoke run that also
# installs everything the scaling session needs, so the image runs without a network. The
# builder's cores are not the run's: verification is recorded here and enforced at run time.
RUN mkdir -p "$BLASBENCH_CACHE" \
    && if [ -d .container/cache ]; then cp -r .container/cache/. "$BLASBENCH_CACHE/"; fi \
    && python -m nox -s scaling -- --setup "system:${OPENBLAS_FLAVOUR}" --allow-unverified --quick --threads 1 --profile-rungs --experiments \
        --results /tmp/smoke \
    && rm -rf /tmp/smoke .container "$BLASBENCH_CACHE/build" "$BLASBENCH_CACHE/src" "$BLASBENCH_CACHE/buildenv" \
    && chmod -R a+rwX "$BLASBENCH_CACHE" /work

# Any user may run it (--user keeps the reports owned by the host's user); the thread count
# follows the CPUs the container is given at run time, and the verification checks it.
ENV OPENBLAS_FLAVOUR=${OPENBLAS_FLAVOUR}
CMD ["sh", "-c", "python -m nox -R -s scaling -- --setup \"system:$OPENBLAS_FLAVOUR\" --results /work/reports"]

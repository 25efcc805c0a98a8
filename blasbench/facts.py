"""One place for each fact that runners, analysis and reports share: thresholds, the variables that
set thread counts, the names of experiments, peers and runtime limits, the verification's status words. Importing
it loads nothing, so a reader of results can use them without importing what measured them.
"""

# The variables a sweep sets together for each point (OpenMP, OpenBLAS, MKL, numexpr), so that every
# library's pool starts at the point's thread count.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")

# Other processes using this much CPU spoil a timing on a small machine: verification and sweeps wait
# for less, and call the machine busy above it.
BUSY_CORES = 0.5
# A point during which other processes kept this much of a core busy was measured under load (marked).
LOADED_POINT_CORES = 0.25
# A one-thread limit is honoured when the DGEMM under it kept at most this many cores busy (CPU/wall).
HONOURED_CORES = 1.3

# The why-scaling-stops experiments, in the order they run and are reported.
EXPERIMENTS = ("timeout", "sizes", "malloc", "limits")
# glibc ignores an mmap threshold above this on 64-bit machines.
GLIBC_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024
# Ways of asking for one BLAS thread, each tried in a fresh process; "threadpoolctl" limits at run time.
NO_LIMIT, ALL_LIMITED = "no limit", "all four thread variables = 1"
LIMIT_CONDITIONS = {
    NO_LIMIT: {},
    "OPENBLAS_NUM_THREADS=1": {"OPENBLAS_NUM_THREADS": "1"},
    "OMP_NUM_THREADS=1": {"OMP_NUM_THREADS": "1"},
    "threadpoolctl threadpool_limits(1)": {},
    ALL_LIMITED: {name: "1" for name in THREAD_VARIABLES},
}

# A threading map's measurement of a cell lasts at least this long (its call repeated as often as needed),
# like timeit's autorange but shorter: a map has hundreds of cells.
CELL_SECONDS = 0.02

# Other frameworks measured beside the rungs.
PEERS = ("torch",)

# Two answers of a function agree "within" this when their largest difference is at most this share
# of the largest magnitude of the answer at the fewest threads.
ANSWER_TOLERANCE = 1e-12

# A BLAS is parallel when a DGEMM on every thread runs at least this much faster than on one (on 2 or more cores).
PARALLEL_SPEEDUP = 1.5
# The threading layers threadpoolctl reports for a serial BLAS: OpenBLAS and BLIS say disabled, MKL sequential.
SERIAL_LAYERS = ("disabled", "sequential")
# The DGEMM size (n x n) the verification's timing probe and the runtime-limits experiment multiply.
DGEMM_SIZE = 1024
# How long a command waits for the machine to be quiet before it measures (--wait-quiet).
WAIT_QUIET_SECONDS = 60.0

# The smallest ratio of two medians called a change (asv's), when the test of results/change.py agrees.
CHANGE_FACTOR = 1.10

# How a wheel is built again to compare (--check-reproducible): every object compiled afresh; the
# objects from ccache (a check of the link and packaging, timestamps and recorded paths, in minutes);
# or the whole cache in another directory (the same key must give the same bytes wherever it is).
REBUILDS = {"compile": "compiled again, ccache off", "package": "linked and packaged again from ccache's objects",
            "elsewhere": "built again with the cache in another directory (ccache's objects)"}

# A verification's status (its outcome; a verdict is what the rule for "changed" says), as the verifier
# prints it and build.md shows it.
STATUS_WORDS = {"passed": "passed", "failed": "FAILED", "inconclusive": "inconclusive: machine busy"}

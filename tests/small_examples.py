"""The examples under ``examples/`` at the small sizes the slow tests run them at (CI time): each
function and its ``--workload-args``."""

EXAMPLES = {"small_solves.py:solve_many": '{"count": 50}', "small_svds.py:svd_many": '{"count": 100}',
            "lbfgsb_fit.py:fit": '{"parameters": 50, "observations": 500}', "large_matmul.py:matmul": '{"n": 400}'}

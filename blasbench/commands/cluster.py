"""``cluster``: a command on every node of a Slurm cluster, one job-array task per node, merged."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nn.options import positive

from .. import UserError
from ..measuring.cluster import COMMANDS, ClusterJob, run_cluster
from ..render import render_all


def command_cluster(args: argparse.Namespace) -> int:
    if args.resume:
        return run_cluster(None, args.resume, args.results, args.poll, render_all)
    if not args.command:
        raise UserError(f"name the command each node runs ({', '.join(COMMANDS)}), or --resume JOB.")
    nodelist = args.nodelist.split(",") if args.nodelist else None
    job = ClusterJob(command=args.command, arguments=args.arguments, nodes=len(nodelist) if nodelist else args.nodes,
                     results=str(args.results.resolve()), repository=str(Path.cwd()), python=sys.executable,
                     nodelist=nodelist,
                     sbatch_environment={k: v for k, v in os.environ.items() if k.startswith("SBATCH_")})
    return run_cluster(job, None, args.results, args.poll, render_all)


def register(commands) -> None:
    cluster = commands.add_parser("cluster", help="run a command on every node of a Slurm cluster and merge the results",
                                  epilog="sbatch's own input variables choose the rest, as for any sbatch: "
                                         "SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT (per task), "
                                         "SBATCH_CONSTRAINT, SBATCH_QOS, ...")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument("--nodes", type=positive, default=2, help="how many nodes, one array task each (default 2)")
    where.add_argument("--nodelist", help="these nodes, comma-separated (one task each)")
    cluster.add_argument("--resume", metavar="JOB", help="follow and merge an earlier job again; submits nothing")
    cluster.add_argument("--poll", type=float, default=5.0, metavar="SECONDS", help="how often to ask squeue (default 5)")
    cluster.add_argument("--results", type=Path, default=Path("reports") / "cluster",
                         help="where each job's directory goes (default reports/cluster); must be shared by the nodes")
    cluster.add_argument("command", nargs="?", choices=list(COMMANDS), help="what each node runs")
    cluster.add_argument("arguments", nargs=argparse.REMAINDER, help="that command's own options")
    cluster.set_defaults(run=command_cluster)

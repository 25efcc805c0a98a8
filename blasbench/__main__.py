import sys

try:
    from .cli import main
except ModuleNotFoundError as e:  # run from a clone into a Python blasbench was never installed into
    if not e.name or e.name.split(".")[0] == __package__:
        raise
    print(f"error: blasbench needs {e.name}, which {sys.executable} lacks: install blasbench there "
          "(`python3 -m pip install .` in the clone), or run it through nox (`python3 -m nox -s SESSION`).", file=sys.stderr)
    sys.exit(2)

sys.exit(main())

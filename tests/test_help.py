"""README, docs/ and --help agree: every option a command line in them passes exists for that
command, every default they state is the parser's, every option has help with its default, and
`nox --list` shows whole sentences."""

import argparse
import ast
import re
import subprocess
import venv
from pathlib import Path

import pytest

from blasbench.building import verify
from blasbench.cli import build_parser
from blasbench.measuring.cluster import COMMANDS as CLUSTER_COMMANDS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A command line of the project: through nox (a session, then its options after --), or python -m.
INVOCATION = re.compile(r"(?:nox\s+(?:-R\s+)?-s\s+(?P<session>[\w-]+)(?:\s+--(?P<session_args>\s[^`#|\n]*))?"
                        r"|python3? -m blasbench(?P<module>\.verify)?(?:\s+(?P<command>[\w-]+))?(?P<args>[^`#|\n]*))")


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser by name, and the verifier's as `blasbench.verify`."""
    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return {**commands.choices, "blasbench.verify": verify.build_parser()}


def session_commands() -> dict[str, str]:
    """Each nox session that runs a command -> that command, as noxfile.py says."""
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    found = {}
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef)):
        calls = [c for c in ast.walk(function) if isinstance(c, ast.Call) and getattr(c.func, "id", None) == "blasbench"]
        names = [kw.value.value for d in function.decorator_list if isinstance(d, ast.Call) for kw in d.keywords
                 if kw.arg == "name"]
        if calls:
            found[names[0] if names else function.name] = calls[0].args[1].value
    return found


def invocations() -> list[tuple[str, str, str]]:
    """(page, command, arguments) of every command line the pages show, in code blocks or inline."""
    sessions, found = session_commands(), []
    for page in PAGES:
        for match in INVOCATION.finditer(page.read_text()):
            if match["session"]:
                if match["session"] in sessions:
                    found.append((page.name, sessions[match["session"]], match["session_args"] or ""))
            elif match["module"]:
                found.append((page.name, "blasbench.verify", match["args"] or ""))
            elif match["command"] and not match["command"].isupper():  # not a placeholder (COMMAND)
                found.append((page.name, match["command"], match["args"] or ""))
    # cluster passes what follows its command's name to that command
    for page, command, args in list(found):
        words = args.split()
        if command == "cluster" and (inner := next((w for w in words if w in CLUSTER_COMMANDS), None)):
            at = words.index(inner)
            found.remove((page, command, args))
            found += [(page, "cluster", " ".join(words[:at])),
                      (page, session_commands()[CLUSTER_COMMANDS[inner]], " ".join(words[at + 1:]))]
    return found


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}


def test_every_option_a_command_line_in_readme_or_docs_passes_exists_for_that_command():
    known, found = parsers(), invocations()
    assert len(found) > 20, found
    wrong = [f"{page}: {command} has no {token}" for page, command, args in found
             for token in re.findall(r"(?<![\w-])--[a-z][\w-]*", args)
             if command in known and token.split("=")[0] not in option_strings(known[command])]
    unknown = sorted({f"{page}: no command {command}" for page, command, _ in found if command not in known})
    assert not wrong + unknown


def stated_defaults() -> list[tuple[str, str, str, str]]:
    """(page, command, option, default) wherever a page's section about one command says "`--option
    ...` ... (default X)" in one sentence."""
    sessions, found = session_commands(), []
    for page in PAGES:
        for section in re.split(r"\n(?=## )", page.read_text()):
            heading = section.splitlines()[0]
            named = re.search(r"nox -s ([\w-]+)|python -m blasbench(\.verify| [\w-]+)", heading)
            if not named:
                continue
            command = sessions.get(named[1]) if named[1] else named[2].strip(" .").replace("verify", "blasbench.verify")
            for option, default in re.findall(r"`(--[a-z][\w-]*)[^`]*`[^.;`]*?[(,]\s*default:?\s+([^),;\s]+)", section):
                found.append((page.name, command, option, default.strip("` ")))
    return found


def shown(default) -> str:
    return " ".join(map(str, default)) if isinstance(default, (list, tuple)) else str(default)


def test_every_default_readme_or_docs_state_is_the_parsers():
    known = parsers()
    found = stated_defaults()
    assert found, "no stated default found: the pattern no longer matches the pages"
    wrong = []
    for page, command, option, default in found:
        [action] = [a for a in known[command]._actions if option in a.option_strings]
        value = action.default
        if value is None:  # decided at run time: the words say how (e.g. "auto-ranged")
            continue
        same = (shown(value) == default or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                            and re.fullmatch(r"[\d.,]+", default)
                                            and float(default.replace(",", "")) == float(value)))
        if not same:
            wrong.append(f"{page}: {command} {option}: says {default!r}, the parser has {value!r}")
    assert not wrong


@pytest.mark.parametrize("command", sorted(parsers()))
def test_every_option_has_help_text_that_names_its_default(command):
    parser = parsers()[command]
    missing = []
    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        flag = isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._AppendAction))
        if not action.help:
            missing.append(f"{action.option_strings[0]}: no help")
        elif not flag and action.default not in (None, [], ()) and "default" not in action.help:
            missing.append(f"{action.option_strings[0]}: default {action.default!r} not in its help")
    assert not missing


def test_nox_list_shows_a_whole_sentence_for_every_session():
    """`nox --list` shows a docstring's first line: it must be a sentence of its own."""
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    sessions = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.decorator_list]
    cut = [f"{f.name}: {ast.get_docstring(f).splitlines()[0]!r}" for f in sessions
           if not ast.get_docstring(f).splitlines()[0].rstrip().endswith(".")]
    assert sessions and not cut
    listed = ast.get_docstring(tree).split(":", 1)[1].split(".")[0]  # the module docstring names every session
    assert {name.strip() for name in listed.replace("\n", " ").split(",")} == \
        {d.keywords[0].value.value if isinstance(d, ast.Call) and d.keywords and d.keywords[0].arg == "name" else f.name
         for f in sessions for d in f.decorator_list[:1]}


def test_every_list_option_takes_spaces_and_commas_alike():
    """`--threads 1,2,4` but `--sizes 2 16 128` (and `--sizes 8,64,512` refused) was two spellings in
    one command: every list option takes either, or a mix."""
    from blasbench.commands.options import Listed

    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    lists = [(name, action) for name, sub in commands.choices.items() for action in sub._actions if isinstance(action, Listed)]
    assert {name for name, _ in lists} >= {"scaling", "threadmap", "bench"}
    spaced = parser.parse_args(["threadmap", "--sizes", "8", "64", "512", "--threads", "1", "2", "--calls", "solve", "inv"])
    commas = parser.parse_args(["threadmap", "--sizes", "8,64,512", "--threads", "1,2", "--calls", "solve,inv"])
    mixed = parser.parse_args(["threadmap", "--sizes", "8,64", "512", "--threads", "2,1", "--calls", "solve", "inv"])
    for args in (spaced, commas, mixed):
        assert (args.sizes, args.threads, args.calls) == ([8, 64, 512], (1, 2), ["solve", "inv"])
    assert parser.parse_args(["scaling", "--rungs", "0-seed,4-contiguous"]).rungs == ["0-seed", "4-contiguous"]


def test_every_command_line_in_readme_or_docs_parses():
    """Each command line the pages show, parsed by its command's parser as a user would type it (placeholders
    such as DIR or FILE.py:FUNCTION are spelt so that they parse; a line of a shell loop, whose `$variable` the
    loop sets, is left to the test of its options above): a line that fails is a line that lies."""
    import contextlib
    import io
    import shlex

    known, failed = parsers(), []
    for page, command, args in invocations():
        if command not in known or "$" in args:
            continue
        try:
            words = shlex.split(args.replace("...", ""))
        except ValueError:
            failed.append(f"{page}: {command} {args}: unbalanced quotes")
            continue
        with contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                known[command].parse_args(words)
            except SystemExit as e:
                if e.code:
                    failed.append(f"{page}: {command} {args.strip()}: {err.getvalue().strip().splitlines()[-1]}")
    assert not failed, "\n".join(failed)


def test_every_option_of_every_command_is_documented():
    """Each option a command's --help lists is named in README.md or docs/: an option no page names is one a
    user finds only by reading --help of the right command."""
    text = "\n".join(page.read_text() for page in PAGES)
    missing = sorted({f"{name} {option}" for name, parser in parsers().items() for action in parser._actions
                      for option in action.option_strings if option.startswith("--") and option != "--help"
                      and not re.search(rf"{re.escape(option)}(?![\w-])", text)})
    assert not missing, missing


def test_run_from_a_clone_in_a_python_without_its_dependencies_it_says_what_to_install(tmp_path):
    """`python3 -m blasbench` in the clone, from a Python blasbench was never installed into (no tqdm, no
    threadpoolctl): one line naming the missing module and the two ways that work, not a traceback."""
    venv.create(tmp_path / "bare")
    python = tmp_path / "bare" / "bin" / "python"
    run = subprocess.run([str(python), "-m", "blasbench", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith(f"error: blasbench needs tqdm, which {python} lacks: install blasbench there "
                                 "(`python3 -m pip install .` in the clone), or run it through nox")

"""The documentation matches the code.

- Every ``var-bench ...`` command shown in README.md and docs/*.md (fenced blocks and inline code)
  names a real command (and subcommand of a group such as ``weights``), whose ``--help`` runs,
  and uses only options that command (or the group) has.
- docs/protocol.md lists the record's keys in the record's order, and its disclosure keys are
  the records' (``DISCLOSURE_KEYS`` + the two ``evaluate`` adds).
- Every ``var-bench`` command (and subcommand of a group) is shown in the README, or in a document
  the README links; the README shows the long commands' paths and links every document.
- docs/quickstart.md's registry example registers, trains and evaluates as shown.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from var_bench.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROGRAM = re.compile(r"(?:^|[\s(`$\"'])(?:\S*bin/)?var-bench(?=\s)")
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)
_INLINE = re.compile(r"`([^`\n]*var-bench [^`\n]*)`")
_STOP = {"&&", "||", "|", ";", ">", ">>", "2>&1", "<", "#"}


def shown_commands(docs=None) -> list[tuple[str, str]]:
    """(document: line, command line) for every ``var-bench`` invocation in ``docs`` (default:
    the README and docs/*.md)."""
    found = []
    for doc in DOCS if docs is None else docs:
        text = doc.read_text("utf-8")
        blocks = [b.replace("\\\n", " ") for b in _FENCE.findall(text)]
        lines = [re.sub(r"(^|\s)#.*", "", line) for b in blocks for line in b.splitlines()]
        lines += _INLINE.findall(_FENCE.sub("", text))
        for line in lines:
            for m in PROGRAM.finditer(line):
                rest = line[m.end() :]
                if "=bash_source" in line[: m.start()] or "_source var-bench" in line:
                    continue  # completion: the program itself, no command
                found.append((doc.name, rest.strip()))
    return found


def words(rest: str) -> list[str]:
    rest = rest.split(" #", 1)[0]
    try:
        tokens = shlex.split(rest, comments=True)
    except ValueError:  # an unbalanced quote in prose: split plainly
        tokens = rest.split()
    out = []
    for t in tokens:
        if t in _STOP or t.startswith(("#", ">")):
            break
        out.append(t.strip("[]()"))
    return out


GLOBAL = {o for p in cli.params for o in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
PLACEHOLDER = re.compile(r"^([A-Z_]+|<.*>|\.\.\.|CMD)$")
COMMANDS = shown_commands()


def test_the_docs_show_commands():
    names = {w[0] for _, rest in COMMANDS if (w := [x for x in words(rest) if x not in GLOBAL])}
    assert {
        "download",
        "score",
        "compare",
        "leaderboard",
        "train",
        "evaluate",
        "build",
        "synth",
    } <= names, names


def _names(commands) -> set[str]:
    """``score``, ``weights list``: the commands (and group subcommands) a list of lines runs."""
    out = set()
    for _, rest in commands:
        w = [x for x in words(rest) if x not in GLOBAL]
        if not w or w[0] not in cli.commands:
            continue
        group = cli.commands[w[0]]
        sub = w[1] if len(w) > 1 and hasattr(group, "commands") else None
        out.add(f"{w[0]} {sub}" if sub in getattr(group, "commands", {}) else w[0])
    return out


def _all_commands() -> set[str]:
    out = set()
    for name, command in cli.commands.items():
        subs = getattr(command, "commands", None)
        out |= {f"{name} {s}" for s in subs} if subs else {name}
    return out


def test_every_command_is_shown_in_the_readme_or_a_document_it_links():
    readme = ROOT / "README.md"
    text = readme.read_text("utf-8")
    linked = sorted({ROOT / p for p in re.findall(r"\]\((docs/[a-z_-]+\.md)\)", text)})
    assert set(linked) == {p for p in DOCS if p != readme}, "the README links every document"
    shown = _names(shown_commands([readme]))
    reachable = shown | _names(shown_commands(linked))
    missing = _all_commands() - reachable
    assert not missing, f"commands neither in the README nor in a document it links: {missing}"
    # the long commands' own paths are in the README itself, not only behind a link
    long = {"train", "evaluate", "report", "reproduce", "sweep", "index", "search", "extract"}
    assert long | {"synth", "build", "score", "export", "import"} <= shown, shown


def test_the_readme_trains_with_a_config_a_cpu_finishes():
    text = (ROOT / "README.md").read_text("utf-8")
    trains = [r for d, r in shown_commands([ROOT / "README.md"]) if words(r)[:1] == ["train"]]
    assert trains and all("--config tiny" in r for r in trains), trains
    assert "hours" in text  # what the paper config costs on a CPU is said


@pytest.mark.parametrize("where,rest", COMMANDS, ids=[f"{d}:{r[:40]}" for d, r in COMMANDS])
def test_shown_command_and_its_options_exist(where, rest):
    tokens = words(rest)
    while tokens and tokens[0] in GLOBAL:  # var-bench -v / --quiet CMD
        tokens.pop(0)
    if not tokens or PLACEHOLDER.match(tokens[0]) or tokens[0].startswith("-"):
        assert not tokens or tokens[0] in GLOBAL or PLACEHOLDER.match(tokens[0]), (where, rest)
        return
    name = tokens[0]
    assert name in cli.commands, f"{where}: 'var-bench {rest}': no command {name!r}"
    command, rest_tokens = cli.commands[name], tokens[1:]
    while hasattr(command, "commands") and rest_tokens and not rest_tokens[0].startswith("-"):
        sub = rest_tokens.pop(0)  # a group (var-bench weights fetch): its subcommand's options
        assert sub in command.commands, (
            f"{where}: 'var-bench {rest}': {name} has no command {sub!r}"
        )
        command, name = command.commands[sub], f"{name} {sub}"
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
    for t in rest_tokens:
        if t.startswith("-") and t != "-" and not re.match(r"^-\d", t):
            opt = t.split("=", 1)[0]
            assert opt in options, (
                f"{where}: 'var-bench {rest}': {name} has no option {opt} "
                f"(it has {', '.join(sorted(options))})"
            )


@pytest.mark.parametrize(
    "name",
    sorted(
        {
            w[0]
            for _, r in COMMANDS
            if (w := [x for x in words(r) if x not in GLOBAL]) and w[0] in cli.commands
        }
    ),
)
def test_help_of_every_shown_command_runs(name):
    r = CliRunner().invoke(cli, [name, "--help"])
    assert r.exit_code == 0, r.output
    assert f"Usage: cli {name}" in r.output or f"{name} [OPTIONS]" in r.output


def test_protocol_lists_the_record_keys_in_order_and_the_disclosure_keys():
    from var_bench.scoring.record import RECORD_DISCLOSURE_KEYS, ResultRecord

    text = (ROOT / "docs" / "protocol.md").read_text("utf-8")
    table = re.findall(r"^\| `([A-Za-z_0-9]+)` \|", text.split("Keys in this order:", 1)[1], re.M)
    assert table[: len(ResultRecord._ORDER)] == list(ResultRecord._ORDER)
    row = next(line for line in text.splitlines() if line.startswith("| `disclosure` |"))
    assert re.findall(r"`([a-z_]+)`", row.split("|")[2])[: len(RECORD_DISCLOSURE_KEYS)] == list(
        RECORD_DISCLOSURE_KEYS
    )


def test_alan_doc_gives_the_quick_test_command():
    text = (ROOT / "docs" / "alan.md").read_text("utf-8")
    assert 'pytest tests/models/alan -q -m "not slow"' in text
    assert (ROOT / "tests" / "models" / "alan").is_dir()


def test_leaderboard_doc_installs_from_the_checkout_not_an_index():
    text = (ROOT / "docs" / "leaderboard.md").read_text("utf-8")
    assert "`pip install var-bench`" not in text
    for column in ("Reference model", "Claimed rerun SumR"):
        assert f"`{column}`" in text


@contextlib.contextmanager
def _registry_without(name: str):
    """The model registry without ``name`` (e.g. a ``mean-linear`` that a reader installed as a
    plug-in by following the quickstart in this venv: the test must not depend on what else is
    installed); whatever held the name before is restored afterwards."""
    from var_bench.models.registry import MODELS

    MODELS.discover()
    installed = MODELS.get(name)
    MODELS.unregister(name)
    try:
        yield
    finally:
        MODELS.unregister(name)
        if installed is not None:
            MODELS.register(name, installed)


@pytest.fixture
def no_installed_mean_linear():
    with _registry_without("mean-linear"):
        yield


def _quickstart_code() -> tuple[str, str]:
    text = (ROOT / "docs" / "quickstart.md").read_text("utf-8")
    code = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "register_model" in b)
    config = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "model:" in b)
    return code, config


def test_quickstart_example_runs_beside_an_installed_plugin_of_the_same_name():
    from var_bench.models.registry import MODELS, get_model

    class Installed:  # what `pip install -e .` of the quickstart's package registers
        pass

    MODELS.register("mean-linear", Installed)
    try:
        with _registry_without("mean-linear"):
            exec(compile(_quickstart_code()[0], "quickstart.md", "exec"), {"__name__": "qs"})
            assert get_model("mean-linear").__name__ == "MeanLinear"
        assert get_model("mean-linear") is Installed
    finally:
        MODELS.unregister("mean-linear")


def test_quickstart_model_registers_trains_and_evaluates(
    built_home, tmp_path, no_installed_mean_linear
):
    """The registry example of docs/quickstart.md, run as written (on in-memory features)."""
    pytest.importorskip("torch")
    from training.tiny import FakeFeatureDataset

    from var_bench import data as vdata
    from var_bench.models.registry import get_model
    from var_bench.training.evaluate import evaluate
    from var_bench.training.trainer import train

    code, config = _quickstart_code()
    exec(compile(code, "quickstart.md", "exec"), {"__name__": "quickstart_model"})
    assert get_model("mean-linear").__name__ == "MeanLinear"
    (tmp_path / "mean-linear.yaml").write_text(config)
    data = {"train": FakeFeatureDataset(48, seed=1), "val": FakeFeatureDataset(16, seed=2)}
    result = train(
        "mean-linear",
        "ucfcrime-ar",
        config=str(tmp_path / "mean-linear.yaml"),
        out=tmp_path / "run",
        data=data,
        overrides=["train.epochs=2", "model_args.dim=16"],
    )
    assert result.epochs_run == 2 and result.best_val_score is not None
    ids = vdata.ids("ucfcrime-ar", "val")  # the built home's val split, so the record binds ids
    record = evaluate(
        result.best_checkpoint,
        "ucfcrime-ar",
        split="val",
        out=tmp_path / "s.npz",
        data=FakeFeatureDataset(len(ids), seed=3, ids=ids),
        name="mean-linear",
    )
    assert record.name == "mean-linear" and record.disclosure["reference_model"] == "mean-linear"

"""The README and docs/ against the files they describe: the sizes and limits they quote
are the ones compose and otel-collector-config.yaml set, the pattern the README shows is
the file itself, every relative link leads to a file (and heading) that exists, and the
pages stay short. (Their commands: tests/test_doc_commands.py.)

The docs state each setting once, in a Markdown table with a `value` column, its first
cell the setting's name: `| OTEL_BSP_MAX_EXPORT_BATCH_SIZE | compose.yaml (app) | 2048 | …`.
A compose variable is named as it is (`OTEL_BSP_MAX_QUEUE_SIZE`), a collector setting
by the end of its path in the configuration (`sending_queue.queue_size`).
"""

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# Users' pages: the README and docs/; pages for those who change the project: docs/project/.
DOCS = (REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")))
# The smoke test's package readme, shown on a package index too: no relative link works there.
PACKAGE_README = REPO / "smoke" / "README.md"
# Every Markdown page of the project, CONTRIBUTING.md once there is one.
PAGES = (*DOCS, PACKAGE_README, *REPO.glob("CONTRIBUTING.md"))
# The two commands, the pattern to copy, the variables, how to run and clean up, where
# things live: the rest belongs in docs/.
README_MAX_LINES = 200
# Every page read in one sitting: each fact once, the rest a link to it.
ALL_PAGES_MAX_LINES = 1300
# A longer line is a table cell that wants to be a paragraph.
LINE_MAX_CHARS = 250

# compose's `${VAR:-default}` / `${VAR-default}` and the collector's `${env:VAR:-default}`:
# the value the stack runs with when the variable is not set.
INTERPOLATION = re.compile(r"\$\{(?:env:)?\w+(?::?-([^}]*))?\}")
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _default(value: object) -> str:
    return INTERPOLATION.sub(lambda match: match.group(1) or "", str(value))


def _normal(value: str) -> str:
    """`500,000` and `500000`, `200 ms` and `200ms`, alike."""
    return re.sub(r"[`,_\s]", "", value)


def compose_settings(compose: Mapping) -> dict[str, str]:
    """Every service's environment variables, as the stack runs them by default."""
    settings: dict[str, str] = {}
    for service in compose["services"].values():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        for name, value in environment.items():
            settings[name] = _default(value)
    return settings


def collector_settings(config: Mapping, prefix: str = "") -> dict[str, str]:
    """Every leaf of the collector's configuration, by its dotted path."""
    leaves: dict[str, str] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            leaves.update(collector_settings(value, f"{path}."))
        elif not isinstance(value, list):
            leaves[path] = _default(value)
    return leaves


def required(compose: Mapping[str, str], collector: Mapping[str, str]) -> dict[str, str]:
    """What the docs must quote: every OTEL_BSP_* and queue size compose sets, the
    collector's queue sizes, its batch settings and how long it retries."""
    wanted = {name: value for name, value in compose.items() if name.startswith("OTEL_BSP_") or "QUEUE_SIZE" in name}
    for path, value in collector.items():
        if (
            path.endswith((".queue_size", ".max_recv_msg_size_mib", ".max_concurrent_streams"))
            or path.startswith("processors.batch.")
            or path.endswith(".retry_on_failure.max_elapsed_time")
        ):
            wanted[path] = value
    return wanted


def markdown_tables(text: str) -> Iterable[list[list[str]]]:
    """Each table outside code blocks, as rows of cells; the separator row left out."""
    rows: list[list[str]] = []
    for line in [*FENCE.sub("", text).splitlines(), ""]:
        if line.lstrip().startswith("|"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                rows.append(cells)
        elif rows:
            yield rows
            rows = []


def quoted_values(docs: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(doc, setting, value) for each row of each table with a `value` column."""
    quoted = []
    for doc, text in docs.items():
        for header, *rows in markdown_tables(text):
            if "value" not in header:
                continue
            column = header.index("value")
            for row in rows:
                setting, cell = row[0].strip("` "), row[column]
                code = re.match(r"`([^`]*)`", cell)
                quoted.append((doc, setting, code.group(1) if code else cell.split()[0] if cell else ""))
    return quoted


def _match(setting: str, settings: Mapping[str, str]) -> list[str]:
    if ENV_NAME.match(setting):
        return [setting] if setting in settings else []
    return [path for path in settings if path == setting or path.endswith(f".{setting}")]


def disagreements(quoted: list[tuple[str, str, str]], settings: Mapping[str, str], wanted: Iterable[str]) -> list[str]:
    """What the docs quote wrongly, quote of a setting the files lack, or leave out."""
    problems, found = [], {name: 0 for name in wanted}
    for doc, setting, value in quoted:
        paths = _match(setting, settings)
        if len(paths) != 1:
            problems.append(f"{doc}: {setting!r} names {len(paths)} settings of the files, not one: {paths}")
            continue
        [path] = paths
        if _normal(value) != _normal(settings[path]):
            problems.append(f"{doc}: {setting} = {value!r}, but the file sets {settings[path]!r}")
        if path in found:
            found[path] += 1
    problems += [f"{path} is quoted in {count} tables, not once" for path, count in found.items() if count != 1]
    return problems


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", text), re.M):
        slug = _slug(heading)
        seen[slug] = seen.get(slug, -1) + 1
        if seen[slug]:
            seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def broken_links(doc: Path, pending: Iterable[Path] = ()) -> tuple[int, list[str]]:
    """How many relative links `doc` has, and those whose file or heading is missing."""
    text = FENCE.sub("", doc.read_text())
    prose = re.sub(r"`[^`\n]*`", "", text)
    targets = INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)
    checked, broken = 0, []
    for target in targets:
        if SCHEME.match(target):
            continue
        checked += 1
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            if file not in pending:
                broken.append(f"{target}: no such file")
            continue
        if anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(f"{target}: no such heading in {file.name}")
    return checked, broken


@pytest.fixture(scope="module")
def settings() -> dict[str, str]:
    compose = compose_settings(yaml.safe_load((REPO / "compose.yaml").read_text()))
    collector = collector_settings(yaml.safe_load((REPO / "otel-collector-config.yaml").read_text()))
    return {**compose, **collector}


def _docs() -> dict[str, str]:
    return {str(doc.relative_to(REPO)): doc.read_text() for doc in DOCS}


def test_the_batch_and_queue_sizes_the_docs_quote_are_the_ones_compose_sets(settings: dict[str, str]) -> None:
    wanted = required(settings, settings)
    assert {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_SCHEDULE_DELAY"} <= set(wanted)
    assert "exporters.otlp_grpc/jaeger.sending_queue.queue_size" in wanted
    assert disagreements(quoted_values(_docs()), settings, wanted) == []


def test_a_quoted_size_the_files_do_not_set_fails_the_check() -> None:
    settings = {
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2048",
        "OTEL_BSP_MAX_QUEUE_SIZE": "32768",
        "exporters.otlp_grpc/jaeger.sending_queue.queue_size": "500000",
    }
    wrong = """
| setting | file | value |
| --- | --- | --- |
| `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | `compose.yaml` | 512 |
| `sending_queue.queue_size` | `otel-collector-config.yaml` | `500,000` |
| `OTEL_BSP_EXPORT_TIMEOUT` | `compose.yaml` | 30000 |
"""
    problems = disagreements(quoted_values({"wrong.md": wrong}), settings, ["OTEL_BSP_MAX_QUEUE_SIZE"])
    assert problems == [
        "wrong.md: OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '512', but the file sets '2048'",
        "wrong.md: 'OTEL_BSP_EXPORT_TIMEOUT' names 0 settings of the files, not one: []",
        "OTEL_BSP_MAX_QUEUE_SIZE is quoted in 0 tables, not once",
    ]


def test_a_compose_value_is_read_as_the_default_of_its_variable() -> None:
    compose = {"services": {"app": {"environment": {"OTEL_BSP_MAX_QUEUE_SIZE": "${APP_QUEUE:-4096}"}}}}
    assert compose_settings(compose) == {"OTEL_BSP_MAX_QUEUE_SIZE": "4096"}
    assert collector_settings({"a": {"b": "${env:B:-7}"}}) == {"a.b": "7"}


def test_the_readme_is_at_most_200_lines() -> None:
    lines = len((REPO / "README.md").read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_all_the_pages_together_are_at_most_1300_lines() -> None:
    lines = {str(page.relative_to(REPO)): len(page.read_text().splitlines()) for page in PAGES}
    assert sum(lines.values()) <= ALL_PAGES_MAX_LINES, lines


def test_no_line_of_any_page_is_over_250_characters() -> None:
    long = [
        f"{page.relative_to(REPO)}:{number}: {len(line)} characters"
        for page in PAGES
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if len(line) > LINE_MAX_CHARS
    ]
    assert long == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(doc: Path) -> None:
    checked, broken = broken_links(doc, set())
    assert checked > 0, f"{doc.name} links to nothing here: is the link pattern still right?"
    assert broken == []


def test_the_packages_readme_has_no_relative_link_which_an_index_would_break() -> None:
    checked, _ = broken_links(PACKAGE_README)
    assert checked == 0


def test_a_link_to_a_missing_file_or_heading_fails_the_check(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# There\n\n## A heading (`code`)\n")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "[ok](there.md#a-heading-code) [gone](gone.md) [no heading](there.md#nowhere) "
        "[web](https://example.org/x) `[code](skipped.md)` ![pending](pending.png)\n"
        "```\n[fenced](skipped.md)\n```\n"
    )
    checked, broken = broken_links(doc, {tmp_path / "pending.png"})
    assert checked == 4
    assert broken == ["gone.md: no such file", "there.md#nowhere: no such heading in there.md"]


def test_the_smoke_test_page_shows_its_example_file_exactly() -> None:
    # One source: the page shows the file the tests check another team's trace with.
    example = (REPO / "smoke" / "examples" / "web-request.json").read_text()
    page = (REPO / "docs" / "smoke-test.md").read_text()
    blocks = re.findall(r"^```json\n(.*?)^```$", page, re.M | re.S)
    assert example in blocks


def test_the_readme_shows_the_pattern_as_the_file_holds_it() -> None:
    pattern = (REPO / "app" / "src" / "inprocess_grpc" / "tracing.py").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", (REPO / "README.md").read_text(), re.M | re.S)
    assert blocks == [pattern]


def test_the_scale_pages_memory_limits_are_the_ones_compose_sets() -> None:
    from harness import compose, pipeline, variants

    config = compose.resolve(*pipeline.FILES, variables={"COLLECTOR_AUTH_TOKEN": "t"})
    limits = {name: int(service["mem_limit"]) >> 20 for name, service in config["services"].items()}
    page = (REPO / "docs" / "scale.md").read_text()
    [table] = [rows for rows in markdown_tables(page) if rows[0][:2] == ["service", "limit"]]
    quoted = {row[0].split()[0].strip("`"): int(row[1].split()[0]) for row in table[1:]}
    assert quoted == limits
    assert f"{sum(limits.values())} MB of limits in all for one ingester" in " ".join(page.split())
    one_machine = compose.resolve(*variants.on_one_machine()["collector"], variables={"COLLECTOR_AUTH_TOKEN": "t"})
    beside = sum(int(service["mem_limit"]) >> 20 for service in one_machine["services"].values())
    assert f"against {beside} MB for all-in-one behind the collector" in " ".join(page.split())

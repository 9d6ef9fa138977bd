"""yamlfile.safe_load reads through libyaml when it can: the same values as yaml.safe_load, and the Python
parser's error messages (line and caret) when the text is not valid YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from corpus_tool import yamlfile
from corpus_tool.errors import UsageError

REPO = Path(__file__).resolve().parents[1]

TRICKY = [
    "a: yes\nb: no\nc: on\nd: off\ne: ~\nf: null\ng: True\n",
    "n: 010\nm: 0x1F\nf: 1e3\ng: 1.5e-3\nh: .inf\ni: -.inf\nj: 12_000\nk: 1:30\n",
    "d: 2026-12-03\nt: 2026-12-03T17:24:41Z\ns: '2026-12-03'\n",
    "base: &b {x: 1, y: [1, 2]}\nother: *b\nmerged: {<<: *b, z: 3}\n",
    "text: |\n  第一行\n  第二行\nfolded: >\n  a\n  b\n\nquoted: \"\\u4e2d\\t文\"\n",
    "- {name: 版权所有, kind: boilerplate_lines, params: {patterns: ['上一篇', \"下一篇\"]}}\n- 中文键: 值\n",
    "",
    "# only a comment\n",
    "key: value # comment\nempty:\nlist: []\nmap: {}\n",
]


def shipped_yaml() -> list[Path]:
    return [REPO / "rules" / "zh_web.yaml", REPO / "corpus_tool" / "data" / "pipeline.yaml",
            REPO / "tests" / "fixtures" / "filter_rules_golden.yaml"]


@pytest.mark.parametrize("text", TRICKY)
def test_the_same_values_as_pyyaml(text):
    assert yamlfile.safe_load(text) == yaml.safe_load(text)


@pytest.mark.parametrize("path", shipped_yaml(), ids=lambda p: p.name)
def test_shipped_files_load_the_same(path):
    text = path.read_text(encoding="utf-8")
    assert yamlfile.safe_load(text) == yaml.safe_load(text)


def test_libyaml_reads_the_shipped_files_when_present(monkeypatch):
    """With libyaml present, the Python parser is not used at all for a valid file."""
    if yamlfile._FAST_LOADER is None:
        pytest.skip("PyYAML was built without libyaml")
    calls = []
    monkeypatch.setattr(yaml, "safe_load", lambda text: calls.append(text))
    for path in shipped_yaml():
        assert yamlfile.safe_load(path.read_text(encoding="utf-8"))
    assert calls == []


def test_an_invalid_file_gets_the_python_parsers_message(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - name: a\n    params: [1, 2\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid YAML") as info:
        yamlfile.load(path, "rule file")
    message = str(info.value)
    assert str(path) in message and "line 3" in message and "^" in message


def test_python_tags_are_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("x: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid YAML"):
        yamlfile.load(path)

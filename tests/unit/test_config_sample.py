"""etc/wfaas.conf.sample lists every option (regenerate with `tox -e genconfig`)."""

import re
from pathlib import Path

from oslo_config import generator

from wfaas import config

SAMPLE = Path(__file__).resolve().parents[2] / "etc" / "wfaas.conf.sample"


def test_sample_matches_the_options(tmp_path: Path) -> None:
    out = tmp_path / "wfaas.conf.sample"
    conf = generator.cfg.ConfigOpts()
    generator.register_cli_opts(conf)
    conf(["--namespace", "wfaas", "--output-file", str(out)])
    generator.generate(conf)
    assert out.read_text() == SAMPLE.read_text(), (
        "etc/wfaas.conf.sample is out of date: run `tox -e genconfig`")


def test_every_group_and_option_is_documented() -> None:
    text = SAMPLE.read_text()
    for group, opts in config.list_opts():
        assert f"[{group or 'DEFAULT'}]" in text
        for opt in opts:
            assert re.search(rf"^#{re.escape(opt.name)} =", text, re.M), (group, opt.name)
            assert opt.help, f"option {group}.{opt.name} has no help text"

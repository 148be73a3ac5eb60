"""The dashboard's server settings (.streamlit/config.toml, read by `streamlit run` from the project folder).

Measured with benchmarks/cold_start at ten national years (median of 3 starts, menu clicks to drawn): with the
source watcher off and no full garbage collection after each run, the first page took 5.1 s instead of 6.4 s,
Disparity 1.5 s instead of 1.8 s, Outcomes 0.9 s instead of 1.4 s."""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    return tomllib.loads((PROJECT / ".streamlit" / "config.toml").read_text())


def test_the_server_neither_watches_sources_nor_collects_garbage_after_each_run() -> None:
    config = _config()
    assert config["server"]["fileWatcherType"] == "none"
    assert config["runner"]["postScriptGC"] is False


def test_the_server_is_local_and_private() -> None:
    config = _config()
    assert config["server"]["address"] == "localhost"
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"


def test_streamlit_knows_every_option_set() -> None:
    # a misspelt option is ignored by streamlit with a warning: check each against its option table
    from streamlit import config as st_config

    for section, options in _config().items():
        for name in options:
            assert f"{section}.{name}" in st_config._config_options_template, f"{section}.{name}"


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not built for Windows (requirements.txt)")
def test_the_server_parses_http_and_runs_its_loop_in_c() -> None:
    # uvicorn (Streamlit's server) picks httptools and uvloop when they are installed (requirements.txt): the
    # first page's ~40 script requests are answered while its first run competes for the interpreter
    # (benchmarks/cold_start, A/B median of 8 at ten years: 4.49 -> 4.37 s)
    import asyncio

    import uvicorn

    config = uvicorn.Config(app=lambda scope, receive, send: None, http="auto", loop="auto")
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    loop_factory = config.get_loop_factory()
    loop = loop_factory() if loop_factory else asyncio.new_event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()

import os

import pytest

# The tests use the embedded model; only tests/test_real_api.py uses a key, when one is given.
REAL_API_KEY = os.environ.pop("OPENAI_API_KEY", None)


@pytest.fixture(scope="session")
def model():
    from helpers.embedded_model import embedded_model

    return embedded_model(first_token_delay=0.05, token_delay=0.01)


@pytest.fixture
def llm(model):
    from helpers.embedded_model import chat_model

    return chat_model(max_retries=0)


@pytest.fixture(scope="session")
def run():
    """One event loop for the whole session: ChatOpenAI shares its async HTTP client across calls."""
    import asyncio

    with asyncio.Runner() as runner:
        yield runner.run


@pytest.fixture(scope="session")
def redis_url():
    """A private redis-server for the session. Where none is installed the Redis tests are skipped
    with the install line, unless STREAMING_LAB_REQUIRE_REDIS is set (CI): then they fail."""
    from helpers.local_service import ServiceUnavailable
    from helpers.redis_server import start_redis

    try:
        server = start_redis("test-redis")
    except ServiceUnavailable as missing:
        if os.environ.get("STREAMING_LAB_REQUIRE_REDIS"):
            pytest.fail(str(missing), pytrace=False)
        pytest.skip(str(missing))
    with server:
        yield server.url


def pytest_collection_modifyitems(config, items):
    """Tests that read the notebooks' runs go last: the runs go on in the background meanwhile."""
    from .notebook_runner import USES_RUNS

    items.sort(key=lambda item: USES_RUNS in getattr(item, "fixturenames", ()))


def pytest_collection_finish(session):
    from .notebook_runner import start_in_background

    start_in_background(session)


def pytest_sessionfinish(session):
    from .notebook_runner import finish_background

    finish_background(session.config)


def pytest_terminal_summary(terminalreporter, config):
    """Where the notebook tests spend their time, so whoever adds a notebook sees what it costs."""
    from .notebook_runner import summary

    line = summary(config)
    if line:
        terminalreporter.write_line(line)

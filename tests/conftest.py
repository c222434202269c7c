import os

import pytest

from . import support  # noqa: F401 (imported first: it takes OPENAI_API_KEY out of the environment)


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


# The notebooks run while the other tests do: tests/notebook_session.py says when and where.
@pytest.fixture(scope="session")
def notebook_runs(request):
    """The runs of the selected notebooks (and variants), started in the background when collection ended."""
    from . import notebook_session

    return notebook_session.runs(request.config)


def pytest_configure(config):
    from . import notebook_session

    notebook_session.configure(config)


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config, items):
    from . import notebook_session

    notebook_session.collected(config, items)


def pytest_collection_finish(session):
    from . import notebook_session

    notebook_session.collection_finished(session)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    from . import notebook_session

    notebook_session.worker_collected(node.config)


def pytest_sessionfinish(session):
    from . import notebook_session

    notebook_session.finish(session.config)


def pytest_terminal_summary(terminalreporter, config):
    """Where the notebook tests spend their time, so whoever adds a notebook sees what it costs."""
    from . import notebook_session

    line = notebook_session.summary(config)
    if line:
        terminalreporter.write_line(line)

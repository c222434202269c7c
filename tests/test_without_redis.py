"""A learner's laptop without redis-server: one line says what is missing and how to install it, and the lesson goes on."""

from helpers.redis_server import INSTALL_HINT, start_redis_or_explain

NO_PROGRAMS = "/nonexistent"  # a PATH on which no redis-server can be found


def test_a_missing_redis_server_is_one_line_with_the_install_command(monkeypatch, capsys):
    monkeypatch.setenv("PATH", NO_PROGRAMS)
    assert start_redis_or_explain("test-no-redis") is None
    printed = capsys.readouterr()
    assert printed.err == ""
    lines = printed.out.splitlines()
    assert len(lines) == 1 and "redis-server" in lines[0] and INSTALL_HINT in lines[0]

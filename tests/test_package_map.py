"""The map in helpers/__init__.py names every module of the package, once, and nothing else."""

import pkgutil
import re

import helpers

# A map line: four spaces, a module name, at least two spaces, what the module is for.
MAP_LINE = re.compile(r"^    ([a-z_]+)  +\S", re.MULTILINE)


def mapped() -> list[str]:
    return MAP_LINE.findall(helpers.__doc__)


def test_every_module_is_in_the_map():
    modules = {m.name for m in pkgutil.iter_modules(helpers.__path__)}
    missing = sorted(modules - set(mapped()))
    assert not missing, f"add these modules to the map in helpers/__init__.py, under their role: {missing}"


def test_the_map_names_only_modules_that_exist_and_each_once():
    modules = {m.name for m in pkgutil.iter_modules(helpers.__path__)}
    names = mapped()
    assert len(names) > 40, "the map's line format changed: update MAP_LINE"
    assert not sorted(set(names) - modules), "the map names modules that do not exist"
    assert sorted(n for n in set(names) if names.count(n) > 1) == [], "a module is mapped twice"


def test_the_map_check_catches_a_missing_module(monkeypatch):
    monkeypatch.setattr(
        helpers, "__doc__", helpers.__doc__.replace("    counting_proxy ", "    -counting_proxy ")
    )
    assert "counting_proxy" not in mapped()

"""The pip and conda pin lists agree, so both ways of installing give the same environment."""

import re

from conftest import REPO


def pins(text):
    return sorted(match.group(1).lower() + "==" + match.group(2)
                  for match in re.finditer(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-\[\]]+)==(\S+)", text, re.M))


def test_environment_yml_pins_match_requirements_txt():
    requirements = pins((REPO / "requirements.txt").read_text())
    environment = pins((REPO / "environment.yml").read_text())
    assert len(requirements) > 100
    assert environment == requirements, set(environment) ^ set(requirements)


def test_the_core_packages_are_pinned():
    names = {pin.split("==")[0] for pin in pins((REPO / "requirements.txt").read_text())}
    assert {"nbgrader", "jupyterlab", "notebook", "nbconvert", "nbclient", "traitlets", "sqlalchemy",
            "numpy", "matplotlib", "jupytext", "dask", "distributed", "pytest"} <= names

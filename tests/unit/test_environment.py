"""The packaging holds together: pyproject.toml's ranges, the one lock (requirements.txt) that pins
them with everything they need, the environment the tests run in, and environment.yml."""

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def lock(text=None):
    """{canonical name: version} of requirements.txt, which pins every line with ==."""
    text = (REPO / "requirements.txt").read_text() if text is None else text
    pins = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"requirements.txt: {line!r} is not an exact pin"
            pins[canonicalize_name(requirement.name)] = Version(spec.version)
    return pins


def declared():
    """pyproject.toml's requirements: the runtime ones and every extra's."""
    extras = PYPROJECT["optional-dependencies"]
    return [Requirement(line) for line in PYPROJECT["dependencies"] + [r for group in extras.values() for r in group]]


def closure(requirements):
    """{canonical name: [Requirement, ...]}: every distribution the requirements need, through the
    metadata of what is installed, extras followed, with the requirements that asked for it."""
    needed, followed, queue = {}, set(), [(requirement, "") for requirement in requirements]
    while queue:
        requirement, extra = queue.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        needed.setdefault(name, []).append(requirement)
        for wanted in ("", *requirement.extras):
            if (name, wanted) not in followed:
                followed.add((name, wanted))
                queue += [(Requirement(line), wanted) for line in distribution(name).requires or []]
    return needed


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = lock()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"pyproject.toml declares {requirement}, requirements.txt does not pin it: make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.txt pins {name}=={pins[name]}, outside pyproject.toml's {requirement}"
        )


def test_the_tests_run_in_the_locked_environment():
    wrong = {}
    for name, version in lock().items():
        try:
            installed = Version(distribution(name).version)
        except PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = f"locked {version}, installed {installed}"
    assert not wrong, f"this environment is not the lock (pip install -r requirements.txt): {wrong}"


def test_the_lock_pins_exactly_what_pyproject_needs():
    pins, needed = lock(), closure(declared())
    missing = sorted(set(needed) - set(pins))
    assert not missing, f"needed through pyproject.toml but not pinned (pip would pick any version): {missing}"
    stray = sorted(set(pins) - set(needed))
    assert not stray, f"pinned but needed by nothing pyproject.toml declares: {stray}"
    for name, requirements in needed.items():
        for requirement in requirements:
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{name}=={pins[name]} does not satisfy {requirement}"
            )


def test_every_pin_installs_on_the_oldest_python_admitted():
    (floor,) = [Version(s.version) for s in SpecifierSet(PYPROJECT["requires-python"]) if s.operator == ">="]
    refused = {}
    for name in lock():
        requires_python = distribution(name).metadata.get("Requires-Python")
        if requires_python and not SpecifierSet(requires_python).contains(floor):
            refused[name] = requires_python
    assert not refused, f"pins that refuse Python {floor}, which pyproject.toml admits: {refused}"


def test_environment_yml_installs_the_lock_and_pins_nothing_itself():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    (pip,) = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    assert "-r requirements.txt" in pip
    assert not [line for line in pip if "==" in line], "environment.yml repeats pins: it must take them from the lock"
    (python,) = [entry.split("=", 1)[1] for entry in conda if entry.startswith("python=")]
    assert SpecifierSet(PYPROJECT["requires-python"]).contains(Version(python))


def test_importing_nbformat_builds_no_parser():
    """jsonschema 4.25 and later import rfc3987-syntax when it is installed, which builds an Earley
    parser (lark) at import: seconds in the grader, each worker, each `alembic` nbgrader starts
    and each student's export. The lock keeps jsonschema below 4.25 (requirements.txt)."""
    import nbformat  # noqa: F401

    assert not {"rfc3987_syntax", "lark"} & set(sys.modules)

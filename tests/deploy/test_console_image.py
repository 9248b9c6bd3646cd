"""Offline checks that the one image recipe builds a complete web console (no Docker engine needed, none is run).

The console's JavaScript and its compiled catalogues are not in git (`make console-assets` makes them in a checkout),
so the image has to make them: a Node stage runs `npm ci` from the lock file and copies the same files the Makefile
copies; the build stage compiles the Babel catalogues where the package was installed. A non-editable install
carries only the package data its pyproject names, so every file the app serves must be named there.
"""

from __future__ import annotations

import fnmatch
import glob
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / "deploy" / "Dockerfile.dockerignore"
MAKEFILE = REPO / "Makefile"
CONSOLE = REPO / "services" / "console"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with comments dropped and continuations joined (as test_compose_file reads it)."""
    joined: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(w.upper(), rest.strip()) for w, _, rest in (line.partition(" ") for line in joined)]


def stage(name: str) -> list[tuple[str, str]]:
    """The instructions of one stage (from its FROM to the next)."""
    out: list[tuple[str, str]] = []
    inside = False
    for instr, arg in instructions():
        if instr == "FROM":
            inside = arg.split()[-1] == name
            continue
        if inside:
            out.append((instr, arg))
    assert out, f"no stage {name} in deploy/Dockerfile"
    return out


def makefile_vendored() -> list[str]:
    """What `make console-assets` copies out of node_modules (paths relative to node_modules/)."""
    return re.findall(r"cp \$\(CONSOLE\)/node_modules/(\S+) ", MAKEFILE.read_text())


def test_web_stage_installs_from_the_lock_file_and_copies_what_make_copies() -> None:
    web = stage("web-npm")
    runs = " && ".join(a for i, a in web if i == "RUN")
    copies = [a for i, a in web if i == "COPY"]
    assert any("package-lock.json" in c for c in copies), "the lock file must be in the stage"
    assert re.search(r"\bnpm ci\b", runs) and "npm install" not in runs, "only `npm ci` keeps to the lock file"
    assert "--ignore-scripts" in runs and "--omit=dev" in runs, runs
    vendored = makefile_vendored()
    assert vendored, "the Makefile's console-assets target copies nothing from node_modules?"
    for path in vendored:
        assert f"node_modules/{path}" in runs, f"the image does not vendor {path}, which `make` does"
        target = f"/out/${{PACKAGE}}/static/vendor/{Path(path).name}"
        assert target in runs, f"{path} must land in the package's static/vendor/"
    lock = CONSOLE / "package-lock.json"
    assert lock.is_file() and (CONSOLE / "package.json").is_file()
    for path in vendored:
        package = path.split("/dist/")[0]
        assert f'"node_modules/{package}"' in lock.read_text(), f"{package} is not pinned by package-lock.json"


def test_build_stage_places_web_files_before_install_and_compiles_catalogues() -> None:
    build = stage("build")
    order = [(i, a) for i, a in build if i in ("COPY", "RUN")]
    web_copy = next(n for n, (i, a) in enumerate(order) if i == "COPY" and a.startswith("--from=web "))
    install = next(n for n, (i, a) in enumerate(order) if i == "RUN" and "pip install" in a)
    compile_ = next(n for n, (i, a) in enumerate(order) if i == "RUN" and "pybabel compile" in a)
    assert web_copy < install < compile_, "web files, then pip install, then the catalogues where it installed them"
    assert order[web_copy][1].split()[1:] == ["/out/", "./services/${SERVICE}/"]
    assert 'if [ -d "$pkg/locale" ]' in order[compile_][1], "only a package with catalogues compiles them"
    # A service with JavaScript built without its web stage fails, rather than shipping pages without htmx.
    guard = " ".join(a for i, a in build if i == "RUN" and "package-lock.json" in a)
    assert '"${WEB_ASSETS}" != npm' in guard and "exit 1" in guard
    check = order[compile_][1]
    for path in makefile_vendored():
        assert f"$pkg/static/vendor/{Path(path).name}" in check, f"the build checks {path} is installed"
    # The stage that supplies /out is chosen by WEB_ASSETS; the default skips Node.
    froms = [a for i, a in instructions() if i == "FROM"]
    assert "web-${WEB_ASSETS} AS web" in froms
    assert "WEB_ASSETS=none" in [a for i, a in instructions()[: [i for i, _ in instructions()].index("FROM")] if i == "ARG"]


def test_babel_catalogues_compile() -> None:
    """What the image's `pybabel compile` step reads: every catalogue parses (a broken one would fail the build)."""
    from babel.messages.pofile import read_po

    catalogues = sorted((CONSOLE / "console" / "locale").glob("*/LC_MESSAGES/messages.po"))
    assert {p.parts[-3] for p in catalogues} >= {"zh_CN", "zh_TW", "en"}
    for po in catalogues:
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parts[-3])
        assert len(catalog) > 50, po


def package_data_patterns() -> list[str]:
    config = tomllib.loads((CONSOLE / "pyproject.toml").read_text())
    patterns: list[str] = config["tool"]["setuptools"]["package-data"]["console"]
    return patterns


def test_everything_the_console_serves_is_package_data() -> None:
    """The image installs the wheel, not the checkout: a file the pyproject does not name is missing in production
    (the icons of the installable app were, before `static/icons/*`)."""
    root = CONSOLE / "console"
    shipped: set[str] = set()
    for pattern in package_data_patterns():
        shipped |= {p for p in glob.glob(pattern, root_dir=root, recursive="**" in pattern) if (root / p).is_file()}
    served = [
        str(p.relative_to(root))
        for folder in ("static", "templates")
        for p in (root / folder).rglob("*")
        if p.is_file() and "vendor" not in p.parts
    ]
    served += [str(p.relative_to(root)) for p in (root / "locale").rglob("*.po")]
    assert served
    missing = sorted(set(served) - shipped)
    assert not missing, f"not in the console's package-data, so not in the image: {missing}"
    # The vendored and compiled files, made in the image, are covered too.
    assert any(fnmatch.fnmatch("static/vendor/htmx.min.js", p) for p in package_data_patterns())
    assert any(fnmatch.fnmatch("locale/en/LC_MESSAGES/messages.mo", p) for p in package_data_patterns())


def ignored(path: str) -> bool:
    """Docker's rule for these simple patterns: the last matching line wins; `**/` matches any depth."""
    result = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        candidates = [pattern] + ([pattern[3:]] if pattern.startswith("**/") else [])
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        hit = any(
            fnmatch.fnmatch(prefix, c) or (c != pattern and fnmatch.fnmatch(prefix.split("/")[-1], c))
            for c in candidates
            for prefix in prefixes
        )
        if hit:
            result = not negate
    return result


@pytest.mark.parametrize(
    "path",
    [
        "constraints.txt",
        "shared/pyproject.toml",
        "shared/opsdesk_shared/app.py",
        "services/console/pyproject.toml",
        "services/console/package.json",
        "services/console/package-lock.json",
        "services/console/console/__main__.py",
        "services/console/console/static/console.js",
        "services/console/console/static/icons/icon-192.png",
        "services/console/console/locale/zh_CN/LC_MESSAGES/messages.po",
        "services/intake/intake/__main__.py",
    ],
)
def test_build_context_keeps_what_the_image_copies(path: str) -> None:
    assert (REPO / path).exists(), path
    assert not ignored(path), f"{path} is excluded from the build context"


@pytest.mark.parametrize(
    "path",
    [
        "deploy/secrets/intake/jwt-secret",
        "services/console/node_modules/htmx.org/dist/htmx.min.js",
        "services/console/console/static/vendor/htmx.min.js",
        "services/console/console/locale/en/LC_MESSAGES/messages.mo",
        ".venv/bin/python",
        "var/dev-token",
        "services/intake/intake/__pycache__/main.cpython-311.pyc",
    ],
)
def test_build_context_leaves_out_secrets_and_local_builds(path: str) -> None:
    assert ignored(path), f"{path} would be sent to the builder"

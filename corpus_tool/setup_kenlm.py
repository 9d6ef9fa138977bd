"""Build KenLM's `lmplz` and `build_binary` into the running environment (`corpus-tool setup kenlm`).

No package index ships these two training binaries (the kenlm wheels hold only the query module), so they
are compiled from the `kenlm` sdist's C++ sources with the system's cmake, a C++ compiler and Boost. Only
`train-lm` needs them: scoring, and the demo (which uses the shipped reference model), do not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus_tool.errors import MissingDependencyError, OutputError, UsageError

KENLM_SDIST = "kenlm==0.3.0"
BINARIES = ("lmplz", "build_binary")
APT_PACKAGES = ("cmake g++ libboost-program-options-dev libboost-system-dev libboost-thread-dev "
                "libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev")
# Headers that KenLM's CMakeLists needs and that are usually missing (checked first, for a clear message).
_BOOST_HEADERS = ("boost/program_options.hpp", "boost/thread.hpp")


def default_bin_dir() -> Path:
    """The environment's bin/ (where pip puts `corpus-tool`), which `train-lm` searches first."""
    return Path(sys.executable).parent


def missing_build_tools() -> list[str]:
    """What the build needs and this machine lacks."""
    missing = [tool for tool in ("cmake", "c++") if shutil.which(tool) is None]
    include_dirs = [Path("/usr/include"), Path("/usr/local/include"), Path(sys.prefix) / "include"]
    for header in _BOOST_HEADERS:
        if not any((d / header).exists() for d in include_dirs):
            missing.append(f"Boost ({header})")
    return missing


def setup_kenlm(bin_dir: Path | None = None, *, source: Path | None = None, force: bool = False,
                jobs: int | None = None, log=print) -> Path:
    """Build lmplz and build_binary from the kenlm sdist (downloaded with pip unless `source` is given)
    and copy them into `bin_dir`. Returns `bin_dir`."""
    dest = bin_dir or default_bin_dir()
    if not force and all((dest / b).is_file() and os.access(dest / b, os.X_OK) for b in BINARIES):
        log(f"setup kenlm: lmplz and build_binary are already in {dest} (--force rebuilds them)")
        return dest
    missing = missing_build_tools()
    if missing:
        raise MissingDependencyError(
            f"setup kenlm: building lmplz needs {', '.join(missing)}; install them first, e.g. "
            f"`apt-get install {APT_PACKAGES}` (Debian/Ubuntu), or load your cluster's cmake and boost modules"
        )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="corpus-tool-kenlm-") as tmp:
        work = Path(tmp)
        if source is None:
            log(f"setup kenlm: downloading the {KENLM_SDIST} sdist")
            # --no-binary for kenlm only: ':all:' would also build its build requirements (cmake) from source.
            _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", "kenlm",
                  KENLM_SDIST, "-d", str(work)], "pip download", work)
            found = sorted(work.glob("kenlm-*.tar.gz"))
            if not found:
                raise MissingDependencyError(f"setup kenlm: pip download gave no kenlm sdist in {work}")
            source = found[0]
        src = _unpack(Path(source), work)
        build = work / "build"
        log(f"setup kenlm: compiling lmplz and build_binary (about 1.5 minutes on 2 cores), log in {build}")
        _run(["cmake", "-S", str(src), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"], "cmake", work)
        _run(["cmake", "--build", str(build), f"-j{jobs or os.cpu_count() or 1}", "--target", *BINARIES],
             "cmake --build", work)
        try:
            dest.mkdir(parents=True, exist_ok=True)
            for name in BINARIES:
                tmp_copy = dest / f".{name}.tmp-{os.getpid()}"
                shutil.copy2(build / "bin" / name, tmp_copy)
                os.replace(tmp_copy, dest / name)
        except OSError as e:
            raise OutputError(f"setup kenlm: cannot install into {dest} ({e.strerror or e})") from e
    log(f"setup kenlm: installed lmplz and build_binary in {dest} in {time.perf_counter() - started:.0f} s")
    return dest


def _unpack(source: Path, work: Path) -> Path:
    if source.is_dir():
        return source
    import tarfile

    try:
        with tarfile.open(source) as tar:
            tar.extractall(work / "src", filter="data")
    except (OSError, tarfile.TarError) as e:
        raise UsageError(f"{source}: not a readable kenlm sdist ({e})") from e
    roots = [p for p in (work / "src").iterdir() if (p / "CMakeLists.txt").exists()]
    if not roots:
        raise UsageError(f"{source}: no CMakeLists.txt inside; expected the kenlm sdist")
    return roots[0]


def _run(cmd: list[str], what: str, work: Path) -> None:
    log_file = work / f"{what.split()[0]}.log"
    with open(log_file, "w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = "\n".join(log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:])
        raise MissingDependencyError(f"setup kenlm: {what} failed (exit {proc.returncode}): "
                                     f"{' '.join(cmd)}\n{tail}")

"""Check that every pinned dependency of setup.cfg (install_requires and every extra) resolves to binary wheels
for another Python version, e.g. 3.12, the default Python of current Ubuntu, on x86_64 Linux.

pip resolves the whole dependency closure for that interpreter with ``--only-binary=:all:`` (as ``pip download
--python-version X --only-binary=:all:`` would) but with ``install --dry-run --report``, which reads the wheels'
metadata instead of downloading some 600 MB of wheels. Exit status 0 and one line per resolved distribution
count; non-zero with pip's own error naming the pin that has no wheel.
"""
import configparser
import json
import subprocess
import sys
import tempfile
from pathlib import Path

PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


def pins(setup_cfg: Path) -> list:
    config = configparser.ConfigParser()
    config.read(setup_cfg)
    lines = config["options"]["install_requires"].splitlines()
    for extra in config["options.extras_require"]:
        lines += config["options.extras_require"][extra].splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def main() -> int:
    version = sys.argv[1] if len(sys.argv) > 1 else "3.12"
    requirements = pins(Path(__file__).resolve().parents[1] / "setup.cfg")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                   "--python-version", version, "--only-binary=:all:", "--target", str(Path(folder) / "target"),
                   "--report", str(report), *(f"--platform={p}" for p in PLATFORMS), *requirements]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
            print(f"Python {version}: the pins do not all resolve to wheels:\n" + "\n".join(errors or [result.stderr]))
            return 1
        installed = json.loads(report.read_text())["install"]
    print(f"Python {version}: all {len(requirements)} pins resolve to binary wheels "
          f"({len(installed)} distributions with their dependencies, x86_64 manylinux)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

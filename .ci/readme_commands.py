"""Print the commands of README.md's "## Quick start" section, so CI runs exactly what README says.

Each fenced ```bash block under the "## Quick start" heading (up to the next "## " heading) is one
command. They are written NUL-separated to stdout, in README order, for `mapfile -d ''` in .ci/run:

    python3 .ci/readme_commands.py [README.md]
    python3 .ci/readme_commands.py README.md --section "Documentation site" --count 1

Exits with an error if the section or its commands are missing, so README and CI cannot drift apart.
``--section`` reads another "## " section the same way (CI builds the documentation site with it).
"""

from __future__ import annotations

import sys
from pathlib import Path


def quick_start_commands(readme: str, section: str = "Quick start") -> list[str]:
    """The bash blocks of the "## Quick start" section (or ``## {section}``) of ``readme``, in order."""
    commands: list[str] = []
    in_section = in_block = False
    block: list[str] = []
    for line in readme.splitlines():
        if line.startswith("## "):
            if in_section:
                break  # the next section: Quick start is over
            in_section = line.strip() == f"## {section}"
        elif in_section and not in_block and line.strip() == "```bash":
            in_block, block = True, []
        elif in_block and line.strip() == "```":
            in_block = False
            commands.append("\n".join(block).strip())
        elif in_block:
            block.append(line)
    if in_block:
        raise ValueError(f"README.md: a ```bash block in '## {section}' is never closed")
    return commands


def main() -> None:
    args = sys.argv[1:]
    section, count = "Quick start", 2
    if "--section" in args:
        k = args.index("--section")
        section = args.pop(k + 1)
        args.pop(k)
    if "--count" in args:
        k = args.index("--count")
        count = int(args.pop(k + 1))
        args.pop(k)
    path = Path(args[0] if args else Path(__file__).parent.parent / "README.md")
    commands = quick_start_commands(path.read_text(encoding="utf-8"), section)
    if len(commands) != count or not all(commands):
        sys.exit(f"{path}: expected {count} non-empty ```bash blocks under '## {section}', got {commands!r}")
    sys.stdout.write("\0".join(commands) + "\0")


if __name__ == "__main__":
    main()

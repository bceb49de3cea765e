#!/usr/bin/env python3
"""The functions a cold gmp command runs, as a symbol-ordering file for the linker (issue 18).

A cold command touches a few hundred kB of gmp's 15 MB of code, scattered over the whole
text: each 64 kB the kernel maps on one page fault (fault-around) holds a little of it, so
the process takes ~120 page faults in its own code. Laid out together (lld's
`--symbol-ordering-file`: gmp's modules are compiled with one section per function, so
the linker can move each), the same code takes a few dozen. Package.swift links the
release gmp with Linking/hot-text.txt; docs/benchmarks.md, "Hot code together".

Record callgrind profiles of the commands to cover with a release build (valgrind 3.19
cannot read Swift 6's DWARF 5: strip the debug info; keep the symbols), then:

    strip --strip-debug -o /tmp/gmp-s .build/release/gmp
    valgrind --tool=callgrind --demangle=no --callgrind-out-file=/tmp/ds.cg /tmp/gmp-s db status --json
    ...
    scripts/hot_text.py /tmp/gmp-s /tmp/*.cg > Linking/hot-text.txt

Prints one SYMBOL a line: every function of that binary that ran in any of the
profiles, in the order first met (a profile lists callers near their callees). A function
that has since been renamed or removed is ignored by the linker
(`--no-warn-symbol-ordering`: it only lays out the symbols it finds), so a stale list costs locality, never correctness. Standard library only.
"""
import os
import re
import sys


def functions(path: str, binary: str):
    """(symbol) of every function with a cost in `path` whose object is `binary`."""
    objects: dict[str, str] = {}
    names: dict[str, str] = {}

    def define(table: dict[str, str], token: str) -> str:
        # callgrind's name compression: "(12) name" defines id 12, "(12)" refers to it.
        if token.startswith("("):
            ident, _, rest = token.partition(")")
            ident = ident[1:]
            rest = rest.strip()
            if rest:
                table[ident] = rest
            return table.get(ident, "")
        return token

    current_object = ""
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("ob="):
            current_object = define(objects, line[3:])
        elif line.startswith("cob="):
            define(objects, line[4:])
        elif line.startswith("fn="):
            name = define(names, line[3:])
            if os.path.basename(current_object) == binary:
                yield name
        elif line.startswith("cfn="):
            define(names, line[4:])


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 64
    binary = os.path.basename(sys.argv[1])
    seen: set[str] = set()
    for path in sys.argv[2:]:
        for name in functions(path, binary):
            # callgrind marks a recursive call's frames "name'2": the symbol is "name".
            name = re.sub(r"'\d+$", "", name)
            if name and name not in seen and not name.startswith("0x"):
                seen.add(name)
                print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Which (type, protocol) pairs the Swift runtime looks up for the first time in one gmp run (issue 18).

The first check of a pair makes the runtime walk every protocol-conformance record of
the binary (a "scan", ~0.3 M instructions in gmp's static release build); later checks
of the same pair hit its cache. `scripts/conformance_scans.py` counts the scans by caller
from a callgrind profile; this names the pairs themselves, in the order the process
first asks for them, with the two nearest Swift frames that asked. It runs the command
under gdb (not valgrind, a few seconds) with a breakpoint on the runtime's lookup; nothing
is called in the process, so the run's output is the command's own.

    scripts/conformance_pairs.py .build/release/gmp db status --json

Types allocated at run time (generic instances such as `OptionGroup<DbStatus>`) have no
symbol: they print as `InitialAllocationPool + N` (the same N is the same type). Needs
gdb and `swift demangle` on the PATH. Environment variables pass through (GMP_DATA_DIR,
GMP_CONFIG). Standard library only.
"""
import os, re, subprocess, sys, tempfile

GDB_SCRIPT = r'''
import gdb
seen = set(); pairs = []
def sym(addr):
    text = gdb.execute("info symbol %d" % addr, to_string=True).strip()
    return text.split(" in section")[0]
class Lookup(gdb.Breakpoint):
    # swift_conformsToProtocolMaybeInstantiateSuperclasses(type, protocol, bool) returns
    # a tuple through a hidden pointer (rdi): the type is in rsi, the protocol in rdx.
    def stop(self):
        mask = 0xffffffffffffffff
        key = (int(gdb.parse_and_eval("$rsi")) & mask, int(gdb.parse_and_eval("$rdx")) & mask)
        if key in seen: return False
        seen.add(key)
        frame = gdb.newest_frame().older(); callers = []
        while frame is not None and len(callers) < 2:
            name = frame.name()
            if name and name.startswith("$s") and not name.startswith("$ss"): callers.append(name)
            frame = frame.older()
        pairs.append("%s\t%s\t%s" % (sym(key[0]), sym(key[1]), " | ".join(callers)))
        return False
Lookup("_ZL52swift_conformsToProtocolMaybeInstantiateSuperclassesPKN5swift14TargetMetadataINS_9InProcessEEEPKNS_24TargetProtocolDescriptorIS1_EEb", internal=True)
gdb.execute("run")
open(OUT, "w").write("\n".join(pairs) + "\n")
'''


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "pairs.txt")
        script = os.path.join(tmp, "pairs.py")
        with open(script, "w") as f:
            f.write("OUT = %r\n" % out + GDB_SCRIPT)
        subprocess.run(["gdb", "-q", "-batch", "-x", script, "--args"] + sys.argv[1:],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        lines = open(out).read().strip().split("\n")
    tokens = sorted({t for line in lines for t in re.findall(r"\$s[\w$]+", line)})
    demangled = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(tokens),
                               capture_output=True, text=True).stdout.split("\n")
    names = dict(zip(tokens, demangled))
    print(f"{len(lines)} pairs looked up for the first time (each a scan of every conformance record)")
    for number, line in enumerate(lines, 1):
        for token in sorted(re.findall(r"\$s[\w$]+", line), key=len, reverse=True):
            line = line.replace(token, names.get(token, token)[:90])
        kind, protocol, callers = (line.split("\t") + ["", ""])[:3]
        protocol = protocol.replace("protocol descriptor for ", "")
        print(f"{number:3}  {kind} : {protocol}   <- {callers}")


if __name__ == "__main__":
    main()

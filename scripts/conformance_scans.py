#!/usr/bin/env python3
"""Who triggers the Swift runtime's protocol-conformance scans in one gmp run (issue 18).

The first check of a (type, protocol) pair makes the runtime walk every conformance record
in the binary (9,299 in gmp's static release build); this counts those walks by caller from
a callgrind profile, deterministic whatever the machine's load. Record the profile with the
debug info stripped (valgrind 3.19 cannot read Swift 6's DWARF 5; the symbols stay):

    strip --strip-debug -o /tmp/gmp-s .build/release/gmp
    valgrind --tool=callgrind --dump-instr=no \
        '--separate-callers30=swift_conformsToProtocolMaybeInstantiateSuperclasses(*bool)' \
        --callgrind-out-file=/tmp/lot-show.cg /tmp/gmp-s lot show LOT --json
    scripts/conformance_scans.py /tmp/lot-show.cg [RECORDS]

Prints the total (full scans = records visited / RECORDS, default 9,299), then the scans
and their instructions by the nearest caller that is not the runtime, and by what gmp was
doing (the nearest frame naming JSONDecoder, JSONEncoder, Yams, ArgumentParser, ... or
gmp's own modules). Needs `swift demangle` on the PATH. Standard library only.
"""
import re, sys, subprocess, collections
path = sys.argv[1]
RECORDS = int(sys.argv[2]) if len(sys.argv) > 2 else 9299
names = {}
def name(tok):
    m = re.match(r'\((\d+)\)(?: (.*))?', tok)
    if not m: return tok
    if m.group(2) is not None: names[m.group(1)] = m.group(2)
    return names[m.group(1)]
cur = None; cfn = None
ctx_calls = collections.Counter(); ctx_incl = collections.Counter()
total_instr = 0
for line in open(path):
    line = line.rstrip('\n')
    if line.startswith('fn='):
        cur = name(line[3:]); cfn = None
    elif line.startswith('cfn='):
        cfn = name(line[4:])
    elif line.startswith('calls='):
        n = int(line[6:].split()[0]); pending = (cfn, n)
    elif line.startswith('summary:') or line.startswith('totals:'):
        total_instr = int(line.split()[1])
    elif line and (line[0].isdigit() or line[0] in '+-*') and cfn is not None and 'pending' in dir():
        # the cost line after calls=: inclusive cost of that call
        parts = line.split()
        if cur and cur.startswith('swift_conformsToProtocolMaybeInstantiateSuperclasses(') and "'" in cur:
            cost = int(parts[1]) if len(parts) > 1 else 0
            ctx_incl[cur] += cost
            if 'ConformanceSection const&) const::{lambda' in pending[0]:
                ctx_calls[cur] += pending[1]
        cfn = None; del pending
# demangle all frames
frames = set()
for c in ctx_incl:
    frames.update(c.split("'")[1:])
frames = sorted(frames)
dem = subprocess.run(['swift', 'demangle', '--simplified'], input='\n'.join(frames), capture_output=True, text=True).stdout.split('\n')
dmap = dict(zip(frames, dem))
full = subprocess.run(['swift', 'demangle'], input='\n'.join(frames), capture_output=True, text=True).stdout.split('\n')
fmap = dict(zip(frames, full))
OWN = ('GMPCLI.', 'GMPRules.', 'GMPRecords.', 'GMPDatabase.', 'PostgresClient.', 'ArgumentParser.', 'Yams.', 'Logging.', 'Crypto.')
def owner(chain):
    for f in chain.split("'")[1:]:
        d = fmap.get(f, f)
        for o in OWN:
            if o in d[:160] and not d.startswith('type metadata'):
                s = dmap.get(f, f)
                return o[:-1] + ': ' + s
    return '-'
def who(chain):
    return who1(chain) + '   <- ' + owner(chain)
def who1(chain):
    fs = [dmap.get(f, f) for f in chain.split("'")[1:]]
    for f in fs:
        if any(k in f for k in ('swift_', 'swift::', '__swift', 'Demangle', 'DecodedMetadataBuilder', 'TypeDecoder', 'anonymous namespace', 'MetadataCache', 'getCache', 'instantiate', '_getWitnessTable', 'checkGenericRequirements')):
            continue
        return f
    return fs[-1] if fs else '?'
agg = collections.defaultdict(lambda: [0, 0])
for c in ctx_incl:
    w = who(c)
    agg[w][0] += ctx_calls[c]; agg[w][1] += ctx_incl[c]
tot_calls = sum(v[0] for v in agg.values()); tot_incl = sum(v[1] for v in agg.values())
print(f"total: {tot_calls/RECORDS:.1f} full scans ({tot_calls:,} records visited), {tot_incl:,} instructions of {total_instr:,}")
for w, (calls, incl) in sorted(agg.items(), key=lambda kv: -kv[1][1]):
    if calls == 0 and incl < 50000: continue
    print(f"{calls/RECORDS:6.1f} scans {incl:>12,} instr  {w[:260]}")

CATS = [('JSONDecoder (server documents)', ('JSONDecoder', 'JSONDecodable', 'init(from: Swift.Decoder)', 'FoundationEssentials.Data.init')),
        ('JSONEncoder (--json documents)', ('JSONEncoder', 'encode(to: Swift.Encoder)')),
        ('configuration (Yams)', ('Yams.',)),
        ('argument parser', ('ArgumentParser.',)),
        ('PostgresClient / libpq', ('PostgresClient.',)),
        ('gmp: text and tables', ('GMPCLI.', 'GMPRules.', 'GMPRecords.', 'GMPDatabase.'))]
def frame_category(d):
    if ('JSONDecoder' in d or 'JSONDecodable' in d or 'FoundationEssentials.Data.init' in d
            or ('init(from: Swift.Decoder)' in d and 'GMPRules.' in d.split('init(from')[0])):
        return 'JSONDecoder (server documents)'
    if 'JSONEncoder' in d or 'encode(to: Swift.Encoder)' in d: return 'JSONEncoder (--json documents)'
    if 'Yams.' in d: return 'configuration (Yams)'
    if 'ArgumentParser.' in d or 'init(from: Swift.Decoder)' in d: return 'argument parser'
    if 'PostgresClient.' in d: return 'PostgresClient / libpq'
    if 'Crypto.' in d: return 'SHA-256 (swift-crypto; SystemCrypto since issue 18)'
    if any(m in d for m in ('GMPCLI.', 'GMPRules.', 'GMPRecords.', 'GMPDatabase.')): return 'gmp: text, tables, status'
    return None
def category(chain):
    for f in chain.split("'")[1:]:
        c = frame_category(fmap.get(f, f))
        if c: return c
    return 'unattributed (runtime/stdlib only in 30 frames)'
cats = collections.defaultdict(lambda: [0, 0])
for c in ctx_incl:
    k = category(c); cats[k][0] += ctx_calls[c]; cats[k][1] += ctx_incl[c]
print()
for k, (calls, incl) in sorted(cats.items(), key=lambda kv: -kv[1][1]):
    print(f"CAT {calls/RECORDS:6.1f} scans {incl:>12,} instr  {k}")
if len(sys.argv) > 3 and sys.argv[3] == '--unattributed':
    for c in ctx_incl:
        if category(c).startswith('unattributed') and ctx_calls[c]:
            print('UNATTR', ctx_calls[c] // RECORDS, ' <- '.join(dmap.get(f, f)[:80] for f in c.split("'")[1:]))

// The gmp executable: everything lives in GMPCLI, so that tests can reach it too.
import GMPCLI

#if canImport(Glibc)
import Glibc
#endif

exit(GMP.runMain())

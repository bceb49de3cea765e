// The libpq client API. The <postgresql/...> path works with or without pkg-config,
// which Debian's libpq-dev also describes (libpq.pc).
#include <postgresql/libpq-fe.h>

-- gmp_audit_native 1.0 -> 1.1: the row trigger pins record_change's settings itself, only
-- where the session differs (gmp_audit_native.c, pin_settings), instead of through SET
-- clauses, which the function manager applied to all five around every row whether or not
-- they differed (docs/benchmarks.md). `gmp db migrate` runs ALTER EXTENSION … UPDATE.
\echo Use "ALTER EXTENSION gmp_audit_native UPDATE TO '1.1'" to load this file. \quit

ALTER FUNCTION gmp_audit.record_change_native() RESET ALL;

-- gmp_audit_native 1.0 -> 1.1: the row trigger pins record_change's settings itself, only
-- where the session differs (gmp_audit_native.c, pin_settings), instead of through SET
-- clauses, which the function manager applied to all five around every row whether or not
-- they differed (docs/benchmarks.md). `gmp db migrate` runs ALTER EXTENSION … UPDATE on a
-- 1.0 database; CREATE EXTENSION installs 1.1 as 1.0 and this script (no script of its own).
\echo Use "ALTER EXTENSION gmp_audit_native UPDATE TO '1.1'" to load this file. \quit

ALTER FUNCTION gmp_audit.record_change_native() RESET ALL;

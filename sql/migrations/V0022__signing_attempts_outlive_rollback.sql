-- A failed signing attempt counts whatever the caller's transaction does (issue 20,
-- item 1). Until now the proof was checked and the failure counted in one transaction,
-- so a caller who wrapped gmp.authenticate_signer in BEGIN … ROLLBACK learnt the verdict
-- and undid the count: unlimited guesses, no lockout, no security event.
--
-- Now the proof is submitted and committed first (gmp.submit_signing_proof), with its
-- verdict kept where no signer can read it; only a later transaction learns the verdict
-- (gmp.authenticate_signer). A wrong proof whose outcome was never recorded, because the
-- caller rolled that later transaction back, still counts: gmp_rules.
-- unrecorded_signing_failures finds it from the committed proof.

ALTER TABLE gmp_audit.signing_challenge
    ADD COLUMN proof_submitted_xact bigint,
    ADD COLUMN proof_submitted_at   timestamptz,
    ADD COLUMN proof_valid          boolean,
    ADD CONSTRAINT signing_challenge_proof_whole CHECK (
        (proof_submitted_xact IS NULL) = (proof_valid IS NULL)
        AND (proof_submitted_xact IS NULL) = (proof_submitted_at IS NULL));

COMMENT ON COLUMN gmp_audit.signing_challenge.proof_valid IS
    'The verdict on the submitted proof. Readable by no gmp role: a signer learns it only in a later transaction, so a rolled-back check cannot hide a wrong guess.';

CREATE INDEX signing_challenge_unrecorded_failure ON gmp_audit.signing_challenge (account_id)
    WHERE proof_valid = false AND used_at IS NULL;


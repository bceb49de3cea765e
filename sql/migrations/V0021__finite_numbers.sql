-- Every numeric column of a GMP record holds a finite number (issue 20, item 10).
-- PostgreSQL's numeric also takes 'NaN' and, from version 14, 'Infinity' and
-- '-Infinity'; NaN compares above every number, so NaN > 0 held and a NaN passed checks
-- such as CHECK (value >= 0) and a criterion's lower limit. The rules refuse such a value
-- where it enters (gmp_rules.require_finite, GM002); these constraints refuse it on any
-- other way in, a superuser's INSERT included. Existing rows are checked as each
-- constraint is added: a database holding such a value stops here, naming the constraint,
-- for a person to decide about that record.

ALTER TABLE gmp.tissue_collection ADD CONSTRAINT tissue_collection_amount_finite
    CHECK (amount NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.facility ADD CONSTRAINT facility_max_population_doublings_finite
    CHECK (max_population_doublings NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.manufacturing_step ADD CONSTRAINT manufacturing_step_cell_count_finite
    CHECK (cell_count NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.manufacturing_step ADD CONSTRAINT manufacturing_step_viability_percent_finite
    CHECK (viability_percent NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.manufacturing_step ADD CONSTRAINT manufacturing_step_population_doublings_finite
    CHECK (population_doublings NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.manufacturing_step ADD CONSTRAINT manufacturing_step_cumulative_doublings_finite
    CHECK (cumulative_doublings NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.manufacturing_step ADD CONSTRAINT manufacturing_step_unit_volume_ml_finite
    CHECK (unit_volume_ml NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp_meta.unit ADD CONSTRAINT unit_maximum_finite
    CHECK (maximum NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp_meta.unit_conversion ADD CONSTRAINT unit_conversion_factor_finite
    CHECK (factor NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.criterion ADD CONSTRAINT criterion_lower_finite
    CHECK (lower NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.criterion ADD CONSTRAINT criterion_upper_finite
    CHECK (upper NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.criterion ADD CONSTRAINT criterion_detection_limit_finite
    CHECK (detection_limit NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.criterion ADD CONSTRAINT criterion_endotoxin_k_finite
    CHECK (endotoxin_k NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.criterion ADD CONSTRAINT criterion_endotoxin_k_intrathecal_finite
    CHECK (endotoxin_k_intrathecal NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.lot_specification ADD CONSTRAINT lot_specification_max_dose_ml_per_kg_h_finite
    CHECK (max_dose_ml_per_kg_h NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.qc_result ADD CONSTRAINT qc_result_value_finite
    CHECK (value NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.storage_location ADD CONSTRAINT storage_location_max_celsius_finite
    CHECK (max_celsius NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.unit ADD CONSTRAINT unit_volume_ml_finite
    CHECK (volume_ml NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.temperature_reading ADD CONSTRAINT temperature_reading_celsius_finite
    CHECK (celsius NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.excursion ADD CONSTRAINT excursion_peak_celsius_finite
    CHECK (peak_celsius NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));
ALTER TABLE gmp.excursion ADD CONSTRAINT excursion_limit_celsius_finite
    CHECK (limit_celsius NOT IN ('NaN'::numeric, 'Infinity'::numeric, '-Infinity'::numeric));

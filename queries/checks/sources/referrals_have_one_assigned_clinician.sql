-- The export rows behind a referral without an assigned clinician: rows of its
-- client whose clinician (rendering provider, on claims) is blank. One row per
-- export row: the file, the row, what is wrong with it.
with failing as (
    select client_key from referrals
    where assigned_clinician is null or trim(assigned_clinician) = ''
)
select g.path, 'appointment ' || a.appointment_id as row, 'has no clinician' as problem
from raw_appointments a
join failing using (client_key)
join ingest_files g using (file_id)
where nullif(trim(a.clinician), '') is null
union all
select g.path, 'claim line ' || c.line_id, 'has no rendering provider'
from raw_claim_lines c
join failing using (client_key)
join ingest_files g using (file_id)
where nullif(trim(c.rendering_provider), '') is null

-- The export rows behind a referral without an assigned clinician although its
-- client's rows name one: those rows (the clinician, or the rendering provider on
-- claims, is not blank). One row per export row: the file, the row, what is wrong.
with failing as (
    select client_key from referrals
    where assigned_clinician is null or trim(assigned_clinician) = ''
)
select g.path, 'appointment ' || a.appointment_id as row, 'names a clinician the referral did not take' as problem
from raw_appointments a
join failing using (client_key)
join ingest_files g using (file_id)
where nullif(trim(a.clinician), '') is not null
union all
select g.path, 'claim line ' || c.line_id, 'names a rendering provider the referral did not take'
from raw_claim_lines c
join failing using (client_key)
join ingest_files g using (file_id)
where nullif(trim(c.rendering_provider), '') is not null

-- client_providers: each client's clinicians as exported: on the schedule by name, in
-- billing by rendering provider name and NPI (by payer); how many rows, and the first
-- and last date. stg_clinician_spellings reads the distinct spellings; the workbook's
-- "Unresolved clinician names" reads the counts and dates (who paid for whom is
-- client_payers). Maintained incrementally like client_appointments.
select client_key, 'scheduling' as export, clinician as provider, NULL::VARCHAR as provider_npi, NULL::VARCHAR as payer,
    count(*) as n, min(appt_date) as first_date, max(appt_date) as last_date
from scope_appointments
group by all
union all
select client_key, 'billing', rendering_provider, rendering_npi, nullif(trim(payer), ''),
    count(*), min(service_date), max(service_date)
from scope_claim_lines
group by all

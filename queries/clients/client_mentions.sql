-- client_mentions: which referrer spellings each client's rows carry (referral source
-- and NPI on the schedule, referring provider and NPI on claims), as exported: one row
-- per client and spelling, however many rows repeat it. stg_referrer_spellings counts
-- the clients per spelling. A follow-up appointment that repeats a spelling the client
-- already has changes nothing here, so it cannot change a referrer's name or rebuild
-- the referrer tables. Maintained incrementally like client_appointments.
select client_key, referral_source as raw_name, referrer_npi as raw_npi
from scope_appointments
where referral_source is not null or referrer_npi is not null
union
select client_key, referring_provider, referring_npi
from scope_claim_lines
where referring_provider is not null or referring_npi is not null

-- client_mentions: how often each client's rows name each referrer spelling (referral
-- source and NPI on the schedule, referring provider and NPI on claims), as exported.
-- stg_referrer_spellings sums it over clients. Maintained incrementally like
-- client_appointments.
select client_key, referral_source as raw_name, referrer_npi as raw_npi, count(*) as n
from scope_appointments
where referral_source is not null or referrer_npi is not null
group by all
union all
select client_key, referring_provider, referring_npi, count(*)
from scope_claim_lines
where referring_provider is not null or referring_npi is not null
group by all

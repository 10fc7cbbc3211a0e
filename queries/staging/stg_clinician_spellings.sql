-- stg_clinician_spellings: every clinician name (and, in billing, rendering NPI) the
-- exports use, resolved to a roster clinician: on the schedule by name; in billing by
-- NPI first, then by name. An unresolved spelling keeps the exported name, trimmed,
-- and is listed in the workbook for the roster's aliases. Only the spellings, not
-- their counts: a night that adds rows under known spellings leaves it unchanged, so
-- the marts that resolve names through it are kept.
with spellings as (
    select distinct export, provider, provider_npi from client_providers
),
by_npi as (
    select npi, min(clinician) as clinician from stg_clinicians where npi is not null group by npi
)
select
    s.export,
    s.provider,
    s.provider_npi,
    coalesce(p.clinician, c.clinician, trim(s.provider)) as clinician,
    coalesce(p.clinician, c.clinician) is not null as clinician_resolved
from spellings s
left join by_npi p on s.export = 'billing' and p.npi = clean_npi(s.provider_npi)
left join stg_clinician_names c on c.name_key = name_key(s.provider)

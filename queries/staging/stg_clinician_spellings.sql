-- stg_clinician_spellings: every clinician name (and, in billing, rendering NPI) the
-- exports use, resolved to a roster clinician: on the schedule by name; in billing by
-- NPI first, then by name. An unresolved spelling keeps the exported name, trimmed,
-- and is listed in the workbook for the roster's aliases. Only the spellings, not
-- their counts: a night that adds rows under known spellings leaves it unchanged, so
-- the marts that resolve names through it are kept.
-- The join keys are computed once per distinct spelling, as columns: with the export test
-- and clean_npi() inside the join condition DuckDB fell back to a nested-loop join
-- (3 s at 10M rows instead of 0.1 s).
with spellings as (
    select export, provider, provider_npi,
        case when export = 'billing' then clean_npi(provider_npi) end as npi,
        name_key(provider) as name_key
    from (select distinct export, provider, provider_npi from client_providers)
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
left join by_npi p on p.npi = s.npi
left join stg_clinician_names c on c.name_key = s.name_key

-- stg_clinician_spellings: every clinician name (and, in billing, rendering NPI) the
-- exports use, resolved to a roster clinician: on the schedule by name; in billing by
-- NPI first, then by name. Unresolved spellings that share a name key of two words
-- or more (case, punctuation, titles and "Last, First" folded) are one clinician,
-- named by one of them (not all in capitals first, then alphabetically): "Fischer,
-- Catherine" and "FISCHER, CATHERINE" are one clinician with or without a roster.
-- They are listed in the workbook, as exported, for the roster's aliases. Only the spellings, not
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
-- An NPI that two roster clinicians share (a typo in one row) resolves nobody: its
-- claim lines go by the provider's name, not all to one of the two (the roster
-- check warns of it).
by_npi as (
    select npi, min(clinician) as clinician from stg_clinicians where npi is not null group by npi
    having count(distinct clinician) = 1
),
-- Only keys the roster does not hold are folded (those it holds resolve, or two of
-- its clinicians share them, and stay unresolved spelling by spelling); nor are
-- one-word keys (name_key drops credentials, so "Dr. Lee, PhD" and "Lee, LCSW"
-- both key as "lee"), nor keys whose billing NPIs differ: different people.
folded as (
    select name_key, arg_min(trim(provider), {'caps': upper(trim(provider)) = trim(provider), 'name': trim(provider)}) as clinician
    from spellings
    where name_key like '% %' and name_key not in (select name_key from stg_clinician_names)
    group by name_key
    having count(distinct npi) <= 1
)
select
    s.export,
    s.provider,
    s.provider_npi,
    coalesce(p.clinician, c.clinician, f.clinician, trim(s.provider)) as clinician,
    coalesce(p.clinician, c.clinician) is not null as clinician_resolved
from spellings s
left join by_npi p on p.npi = s.npi
left join stg_clinician_names c on c.name_key = s.name_key
left join folded f on f.name_key = s.name_key

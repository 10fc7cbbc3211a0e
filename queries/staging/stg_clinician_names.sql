-- Every spelling of a clinician's name (the roster name and its aliases),
-- keyed with name_key(). A key shared by two clinicians names neither
-- (clinician NULL): such a name cannot be resolved and is reported as
-- unresolved instead, and the exports' spellings of it are never folded into
-- one (stg_clinician_spellings).
with spellings as (
    select trim(name) as clinician, name_key(name) as name_key from ref_roster
    union
    select trim(name) as clinician, name_key(alias) as name_key
    from (select name, unnest(split_list(aliases)) as alias from ref_roster)
),
keys as (
    select name_key, case when count(distinct clinician) = 1 then min(clinician) end as clinician
    from spellings
    where name_key is not null
    group by name_key
)
select * from keys

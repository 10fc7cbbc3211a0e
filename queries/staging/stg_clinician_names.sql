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
-- The NULL key's group is dropped by an aggregate's test (no key counted), which stays
-- where it is: a test of the key itself went down to the roster's rows, where DuckDB
-- computed every key a second time, four times slower than in the projection.
keys as (
    select name_key, case when count(distinct clinician) = 1 then min(clinician) end as clinician
    from spellings
    group by name_key
    having count(name_key) > 0
)
select * from keys

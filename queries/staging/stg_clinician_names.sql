-- Every spelling of a clinician's name (the roster name and its aliases),
-- keyed with name_key(). A key shared by two clinicians is dropped: such a
-- name cannot be resolved and is reported as unresolved instead.
with spellings as (
    select trim(name) as clinician, name_key(name) as name_key from ref_roster
    union
    select trim(name) as clinician, name_key(alias) as name_key
    from (select name, unnest(split_list(aliases)) as alias from ref_roster)
),
unambiguous as (
    select name_key, min(clinician) as clinician
    from spellings
    where name_key is not null
    group by name_key
    having count(distinct clinician) = 1
)
select * from unambiguous

-- The clinician roster, one row per clinician, lists split and NPIs cleaned.
with source as (
    select * from ref_roster
),
renamed as (
    select
        trim(name)                    as clinician,
        clean_npi(npi)                as npi,
        start_date,
        end_date,
        split_list(specialties)       as specialties,
        split_list(payers)            as payers,
        accepting
    from source
)
select * from renamed

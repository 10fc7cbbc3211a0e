-- One row per referrer (and per channel), with what the directory says of it.
with spellings as (
    select * from stg_referrer_spellings
),
-- The NPI its spellings carry most often; a tie goes to the smallest NPI, so every
-- build picks the same. Only an NPI whose check digit is right (npi_valid), but for a
-- referrer named by its NPI alone ("NPI 0000000000"): a mistyped one or a filler
-- beside a name (on "John Smith (no NPI)", say) would be shown, and passed to the
-- CRM, as that referrer's NPI.
seen_npis as (
    select referrer, arg_min(npi, {'n': -n, 'npi': npi}) as seen_npi
    from (select referrer, npi, count(*) as n from spellings where npi is not null group by all)
    where npi_valid(npi) or referrer = 'NPI ' || npi
    group by referrer
),
referrers as (
    select s.referrer,
        bool_or(s.is_channel) as is_channel,
        count(distinct s.raw_name) as spellings,
        any_value(n.seen_npi) as seen_npi
    from spellings s
    left join seen_npis n using (referrer)
    group by s.referrer
),
directory as (
    select trim(name) as referrer, clean_npi(npi) as npi, nullif(trim(category), '') as category,
        nullif(trim(organisation), '') as organisation, point_person
    from ref_directory
),
-- The directory's point persons keyed once per spelling: 4,756 of them at 10M exported
-- rows, where keyed in the joins below they were keyed on each of the 32,863 referrers'
-- rows (with export_names' CASE, the model's build took 0.27 s against 0.11 s).
point_person_keys as (
    select point_person, name_key(point_person) as name_key
    from (select distinct point_person from ref_directory where point_person is not null)
),
-- Without a roster, the clinicians the exports name, by name key. The test is a CASE,
-- so that with a roster no name is keyed: as a filter beside the roster's test, DuckDB
-- keyed every spelling before it.
export_names as (
    select name_key(clinician) as name_key, min(clinician) as clinician
    from stg_clinician_spellings
    where case when not exists (select 1 from ref_roster) then name_key(clinician) is not null else false end
    group by 1
)
select
    r.referrer,
    case when r.is_channel then 'channel' else coalesce(d.category, 'uncategorised') end as category,
    coalesce(d.npi, r.seen_npi) as npi,
    d.organisation,
    -- A point person that names no clinician of the roster is none (see
    -- stg_unknown_point_persons); without a roster, the clinician of the exports
    -- it names, else the name as written.
    case when pp.clinician is not null then pp.clinician
         when not exists (select 1 from ref_roster) then coalesce(en.clinician, nullif(trim(d.point_person), '')) end as directory_point_person,
    r.is_channel,
    r.spellings::INTEGER as spellings
from referrers r
left join directory d on d.referrer = r.referrer
left join point_person_keys k on k.point_person = d.point_person
left join stg_clinician_names pp on pp.name_key = k.name_key
left join export_names en on en.name_key = k.name_key

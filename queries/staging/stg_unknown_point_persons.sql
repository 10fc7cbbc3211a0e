-- The directory's point persons that name no single clinician of the roster (its
-- names and aliases, by name key): a typo, or a clinician missing from the roster.
-- Listed on the Data quality sheet; such a referrer's point person is then found as
-- for one the directory names none (stg_referrers): the assigned clinician of its
-- first referral. Empty without a roster: nothing to match against.
--
-- Each point person is keyed once per spelling (4,756 at 10M exported rows, for 14,617
-- directory rows that name one): keyed per row, its build took 0.11 s against 0.03 s.
with point_person_keys as (
    select point_person, name_key(point_person) as name_key
    from (select distinct point_person from ref_directory where nullif(trim(point_person), '') is not null)
)
select trim(d.name) as referrer, trim(d.point_person) as point_person
from ref_directory d
join point_person_keys k on k.point_person = d.point_person
where exists (select 1 from ref_roster)
  and coalesce(k.name_key, '') not in (select name_key from stg_clinician_names where clinician is not null)
order by 1, 2

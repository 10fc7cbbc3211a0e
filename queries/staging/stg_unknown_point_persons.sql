-- The directory's point persons that name no single clinician of the roster (its
-- names and aliases, by name key): a typo, or a clinician missing from the roster.
-- Listed on the Data quality sheet; such a referrer's point person is then found as
-- for one the directory names none (stg_referrers): the assigned clinician of its
-- first referral. Empty without a roster: nothing to match against.
select trim(d.name) as referrer, trim(d.point_person) as point_person
from ref_directory d
where nullif(trim(d.point_person), '') is not null
  and exists (select 1 from ref_roster)
  and coalesce(name_key(d.point_person), '') not in (select name_key from stg_clinician_names where clinician is not null)
order by 1, 2

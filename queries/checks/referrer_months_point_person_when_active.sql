-- An active referrer (a referral in the window) always has a point person, unless none
-- of its clients has a clinician yet (point_persons: 'no clinician yet').
select referrer, month, referrals, point_person_source
from referrer_months
where referrals > 0 and point_person is null and point_person_source is distinct from 'no clinician yet'

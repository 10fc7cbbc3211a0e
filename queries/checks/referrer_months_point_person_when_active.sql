-- An active referrer (a referral in the window) always has a point person.
select referrer, month, referrals
from referrer_months
where referrals > 0 and point_person is null

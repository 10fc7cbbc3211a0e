-- A stage 1..3 in every month with a referral in the window, none in a month without.
select referrer, month, referrals, stage
from referrer_months
where (referrals > 0 and (stage is null or stage not between 1 and 3))
   or (referrals = 0 and stage is not null)

-- Every referral has an assigned clinician, unless none of its client's appointments
-- and claims names one yet (an intake booked into an open slot, cancelled before
-- anyone was assigned): such a referral is measured once one is (referrer_months).
-- A blank name is never one.
select client_key, referral_date, origin, referrer
from referral_facts
where trim(assigned_clinician) = ''
   or (assigned_clinician is null and clinician_named)

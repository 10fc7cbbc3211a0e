-- Every referral has an assigned clinician.
select client_key, referral_date, origin, referrer
from referrals
where assigned_clinician is null or trim(assigned_clinician) = ''

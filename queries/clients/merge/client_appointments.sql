-- client_appointments of a client that only gained rows since the last build: its
-- kept row (tmp_kept) and the row of its new rows alone (tmp_partial; a client new
-- tonight has no kept row). Each of the four appointments (the first, the first
-- attended, the first with a source, the first naming a clinician) comes from the side with the smaller order: no
-- row of the other side can be as early, so the values are those the history gives.
-- Where both sides have a row at the same order, the lowest appointment id of the
-- two decides, value by value, and the kept row does not say which it was: those
-- clients are recomputed from their history (the query after the marker).
select
    coalesce(k.client_key, p.client_key) as client_key,
    least(k.referral_date, p.referral_date) as referral_date,
    case when k.client_key is null or p.first_ord < k.first_ord then p.first_clinician else k.first_clinician end as first_clinician,
    case when k.client_key is null or p.first_ord < k.first_ord then p.referred_to else k.referred_to end as referred_to,
    case when k.client_key is null or p.first_ord < k.first_ord then p.has_referred_to else k.has_referred_to end as has_referred_to,
    case when k.attended_ord is null or p.attended_ord < k.attended_ord then p.first_attended_clinician else k.first_attended_clinician end as first_attended_clinician,
    case when k.source_ord is null or p.source_ord < k.source_ord then p.source_name else k.source_name end as source_name,
    case when k.source_ord is null or p.source_ord < k.source_ord then p.source_npi else k.source_npi end as source_npi,
    case when k.named_ord is null or p.named_ord < k.named_ord then p.named_clinician else k.named_clinician end as named_clinician,
    coalesce(k.attended, false) or coalesce(p.attended, false) as attended,
    least(k.first_ord, p.first_ord) as first_ord,
    least(k.attended_ord, p.attended_ord) as attended_ord,
    least(k.source_ord, p.source_ord) as source_ord,
    least(k.named_ord, p.named_ord) as named_ord
from tmp_kept k
full join tmp_partial p using (client_key)
-- recompute:
select client_key
from tmp_kept k
join tmp_partial p using (client_key)
where p.first_ord = k.first_ord or p.attended_ord = k.attended_ord or p.source_ord = k.source_ord or p.named_ord = k.named_ord

-- monthly_volume: referrals by month, source kind, referrer (or channel; NULL when the
-- source is unknown), its directory category and the assigned clinician, for every
-- month up to the report month (later months are incomplete and left out).
select
    r.referral_month as month,
    r.source_kind,
    r.referrer,
    d.category,
    r.assigned_clinician as clinician,
    count(*)::INTEGER as referrals
from referrals r
left join stg_referrers d on d.referrer = r.referrer
where r.referral_month <= getvariable('report_month')::DATE
group by all

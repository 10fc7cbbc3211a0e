-- referrals: one row per referred client (see referral_facts for how a referral, its
-- referrer, assigned and requested clinician are found).
--
-- point_person is the referrer's point person at the report month (point_persons), and
-- to_point_person compares this referral with that person: the requested clinician
-- when a clinician was requested, else the assigned one. Summed over the window ending
-- at the report month it gives exactly referrer_status.point_person_share. NULL for
-- channels and unknown sources, which have no point person.
select
    f.client_key,
    f.referral_date,
    f.referral_month,
    f.origin,
    f.source_kind,
    f.referrer,
    f.requested_clinician,
    f.requested_practice,
    f.requested_known,
    f.assigned_clinician,
    pp.point_person,
    case when pp.point_person is not null then f.pp_target is not distinct from pp.point_person end as to_point_person,
    f.intake_attended,
    f.payer,
    f.billed,
    f.paid
from referral_facts f
left join point_persons pp
    on pp.referrer = f.referrer
    and pp.month = getvariable('report_month')::DATE

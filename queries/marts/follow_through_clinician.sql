-- follow_through_clinician: how each clinician's new clients fared, over the window
-- ending at the report month (clients referred in the window_months complete months
-- ending on its last day), with every clinician on the roster at the report month
-- listed even without a referral.
--   referrals              clients assigned to the clinician, whatever their source
--   from_referrers         distinct referrers (not channels) among them
--   point_person_for       referrers active at the report month (a referral in the
--                          window) whose point person it is
--   pending_intakes        of them, clients whose intake is still to come
--                          (pending_intakes): left out of every rate
--   attended_rate          attended_intakes / (referrals - pending_intakes)
--   attended_rate_as_point_person / _as_colleague
--                          attended rate of referrals from referrers whose point
--                          person it is / is not (channels and unknown in neither)
--   billed, paid           all claim lines of those clients (referrals.billed/paid)
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        last_day(getvariable('report_month')::DATE) as report_end,
        getvariable('window_months')::INTEGER as window_months
),

in_window as (
    select
        r.*,
        r.source_kind = 'referrer' and r.assigned_clinician = r.point_person as as_point_person,
        r.source_kind = 'referrer' and r.assigned_clinician is distinct from r.point_person as as_colleague,
        pi.client_key is not null as intake_pending
    from referrals r
    cross join params p
    left join pending_intakes pi on pi.client_key = r.client_key
    where r.referral_month > p.report_month - to_months(p.window_months)
      and r.referral_date <= p.report_end
),

by_clinician as (
    select
        assigned_clinician as clinician,
        count(*) as referrals,
        count(distinct referrer) filter (where source_kind = 'referrer') as from_referrers,
        count(*) filter (where intake_attended) as attended_intakes,
        count(*) filter (where intake_pending) as pending_intakes,
        count(*) filter (where as_point_person and not intake_pending) as as_pp,
        count(*) filter (where as_point_person and intake_attended) as as_pp_attended,
        count(*) filter (where as_colleague and not intake_pending) as as_colleague,
        count(*) filter (where as_colleague and intake_attended) as as_colleague_attended,
        sum(billed) as billed,
        sum(paid) as paid
    from in_window
    group by assigned_clinician
),

point_person_for as (
    select point_person as clinician, count(*) as referrers
    from referrer_status
    where referrals > 0
    group by point_person
),

on_roster as (
    select c.clinician
    from stg_clinicians c, params p
    where (c.start_date is null or c.start_date <= p.report_end)
      and (c.end_date is null or c.end_date >= p.report_month)
),

clinicians as (
    select clinician from by_clinician
    union
    select clinician from on_roster
    union
    select clinician from point_person_for
)

select
    c.clinician,
    coalesce(b.referrals, 0)::INTEGER as referrals,
    coalesce(b.from_referrers, 0)::INTEGER as from_referrers,
    coalesce(pf.referrers, 0)::INTEGER as point_person_for,
    coalesce(b.attended_intakes, 0)::INTEGER as attended_intakes,
    b.attended_intakes / nullif(b.referrals - b.pending_intakes, 0) as attended_rate,
    b.as_pp_attended / nullif(b.as_pp, 0) as attended_rate_as_point_person,
    b.as_colleague_attended / nullif(b.as_colleague, 0) as attended_rate_as_colleague,
    coalesce(b.billed, 0)::DECIMAL(12,2) as billed,
    coalesce(b.paid, 0)::DECIMAL(12,2) as paid,
    coalesce(b.pending_intakes, 0)::INTEGER as pending_intakes
from clinicians c
left join by_clinician b on b.clinician = c.clinician
left join point_person_for pf on pf.clinician = c.clinician
where c.clinician is not null

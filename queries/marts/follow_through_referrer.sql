-- follow_through_referrer: did the clients each referrer (or channel) sent attend an
-- intake? Over the window ending at the report month: the clients referred in the
-- window_months complete months ending on the report month's last day.
--   attended_intakes       clients with an attended appointment, or any claim line
--   pending_intakes        clients whose intake is still to come (pending_intakes):
--                          left out of every rate, as neither attended nor missed
--   attended_rate          attended_intakes / (referrals - pending_intakes)
--   to_point_person_rate   attended rate of those assigned to the point person
--                          (at the report month): did the point person serve them?
--   to_colleagues_rate     attended rate of those assigned to anyone else
-- NULL rates: no referral of that kind (channels have no point person), or every one
-- of them pending. The referrals of each kind are appended (to_point_person_referrals,
-- to_colleague_referrals); they count the pending intakes, which the rates leave out.
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        last_day(getvariable('report_month')::DATE) as report_end,
        getvariable('window_months')::INTEGER as window_months
),

in_window as (
    select r.*, r.point_person is not null and r.assigned_clinician = r.point_person as assigned_to_pp,
        pi.client_key is not null as intake_pending
    from referrals r
    cross join params p
    left join pending_intakes pi on pi.client_key = r.client_key
    where r.source_kind in ('referrer', 'channel')
      and r.referral_month > p.report_month - to_months(p.window_months)
      and r.referral_date <= p.report_end
)

select
    referrer,
    count(*)::INTEGER as referrals,
    count(*) filter (where intake_attended)::INTEGER as attended_intakes,
    count(*) filter (where intake_attended) / nullif(count(*) filter (where not intake_pending), 0) as attended_rate,
    count(*) filter (where assigned_to_pp and intake_attended)
        / nullif(count(*) filter (where assigned_to_pp and not intake_pending), 0) as to_point_person_rate,
    count(*) filter (where point_person is not null and not assigned_to_pp and intake_attended)
        / nullif(count(*) filter (where point_person is not null and not assigned_to_pp and not intake_pending), 0) as to_colleagues_rate,
    any_value(source_kind) as source_kind,
    count(*) filter (where assigned_to_pp)::INTEGER as to_point_person_referrals,
    count(*) filter (where point_person is not null and not assigned_to_pp)::INTEGER as to_colleague_referrals,
    count(*) filter (where intake_pending)::INTEGER as pending_intakes
from in_window
group by referrer

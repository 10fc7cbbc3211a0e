-- pending_intakes: the clients referred in the window ending at the report month whose
-- intake was still to come at the month's end: they have attended nothing (no attended
-- appointment, no claim line) and are booked (scheduled, confirmed…) after the month
-- (client_bookings). A booking within the month that was never marked is no pending
-- intake: it counts as missed. follow_through_* leave these clients out of their rates.
--
-- A table of its own, between the bookings and follow-through: a night's bookings
-- change client_bookings, and this table is built again, but its rows change only when
-- a client's intake starts or stops being pending; follow-through is kept otherwise.
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        last_day(getvariable('report_month')::DATE) as report_end,
        getvariable('window_months')::INTEGER as window_months
)

select r.client_key
from referrals r
cross join params p
join client_bookings b on b.client_key = r.client_key
where not r.intake_attended
  and b.last_scheduled_date > p.report_end
  and r.referral_month > p.report_month - to_months(p.window_months)
  and r.referral_date <= p.report_end

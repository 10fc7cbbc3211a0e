-- pending_intakes: the clients referred in the window ending at the report month whose
-- intake is still to come: they have attended nothing (no attended appointment, no
-- claim line), and their latest booking (client_bookings) is
--   on or after the exports' last marked day (the latest appointment marked attended
--   or no-show, statuses set only once the day has come: the schedule was not marked
--   past it when it was exported), or
--   after the report month (at the month's end the intake was still ahead).
-- A booking before both was never marked: it counts as missed. follow_through_* leave
-- these clients out of their rates.
--
-- A table of its own, between the bookings and follow-through: a night's appointments
-- change client_bookings and this table is built again, but its rows change only when
-- a client's intake starts or stops being pending; follow-through is kept otherwise.
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        last_day(getvariable('report_month')::DATE) as report_end,
        getvariable('window_months')::INTEGER as window_months
),

-- The last marked day is never after the day of the run (run_context): an appointment
-- marked attended or no-show on a later day was dated ahead by a slip of the keyboard
-- (2062 for 2026), and would otherwise make every booking before it count as missed.
as_of as (
    select max(last_marked_date) filter (where last_marked_date <= (select run_date from run_context)) as last_marked_day
    from client_bookings
)

select r.client_key
from referrals r
cross join params p
cross join as_of o
join client_bookings b on b.client_key = r.client_key
where not r.intake_attended
  and (b.last_scheduled_date > p.report_end or b.last_scheduled_date >= o.last_marked_day)
  and r.referral_month > p.report_month - to_months(p.window_months)
  and r.referral_date <= p.report_end

-- client_bookings: one row per client on the schedule with a booked or a marked
-- appointment: the date of its latest appointment still marked scheduled (booked,
-- confirmed…) or not marked at all (no status: schedules that set one only once the
-- day has come export the days ahead blank), and of its latest marked attended or
-- no-show: statuses set only once the day has come, where a cancellation is often
-- entered ahead of its date.
-- pending_intakes takes a referred client who has attended nothing and is booked on or
-- after the exports' last marked day, or after the report month, as an intake still to
-- come.
--
-- Kept per client like the other client_* tables: a night recomputes only the clients
-- whose rows changed, or merges the dates of those who only gained rows (see
-- merge/client_bookings.sql). A table of its own, read only by pending_intakes: every
-- night's appointments change it, and the marts built from client_appointments stay as
-- they are.
--
-- Materialized, so that statuses are classified once per spelling: DuckDB would
-- otherwise push the test below the distinct, onto every row (1.5 s of CPU at 10M
-- exported rows, against 0.1 s for the whole scan).
with status_spellings as materialized (
    select distinct status as raw_status from scope_appointments where status is not null
),

-- A status of white space alone is no status: 'scheduled' here, like a NULL one below.
status_classes as (
    select raw_status, case when trim(raw_status) = '' then 'scheduled' else appointment_status(raw_status) end as class
    from status_spellings
    where trim(raw_status) = '' or appointment_status(raw_status) in ('scheduled', 'attended', 'no-show')
)

select
    a.client_key,
    max(a.appt_date) filter (where a.status is null or c.class = 'scheduled') as last_scheduled_date,
    max(a.appt_date) filter (where c.class in ('attended', 'no-show')) as last_marked_date
from scope_appointments a
left join status_classes c on c.raw_status = a.status
where a.client_key is not null and a.appt_date is not null
  and (a.status is null or c.class is not null)
group by a.client_key

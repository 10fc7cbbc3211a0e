-- client_bookings: one row per client with an appointment still marked scheduled (booked,
-- confirmed…), and the date of the latest. pending_intakes takes a referred client who
-- has attended nothing and is booked after the report month as an intake still to come.
--
-- Kept per client like the other client_* tables: a night recomputes only the clients
-- whose rows changed, or merges the bookings of those who only gained rows (see
-- merge/client_bookings.sql). A table of its own, read only by pending_intakes: every
-- night's bookings change it, and the marts built from client_appointments stay as
-- they are.
-- Materialized, so that statuses are classified once per spelling: DuckDB would
-- otherwise push the test below the distinct, onto every row (1.5 s of CPU at 10M
-- exported rows, against 0.1 s for the whole scan).
with status_spellings as materialized (
    select distinct status as raw_status from scope_appointments where status is not null
),

scheduled_statuses as (
    select raw_status from status_spellings where appointment_status(raw_status) = 'scheduled'
)

select client_key, max(appt_date) as last_scheduled_date
from scope_appointments
where client_key is not null and appt_date is not null
  and status in (select raw_status from scheduled_statuses)
group by client_key
